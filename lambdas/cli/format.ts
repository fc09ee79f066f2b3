/** Human-readable output shared by the CLI commands. */
import type { Finding } from '../domain/types.ts';

const short = (d?: string) => (d ? `${d.slice(0, 19)}…` : '-');

/** A plain text table; no colours so it pipes cleanly. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
}

export function findingTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings\n';
  return table(
    ['KIND', 'REPOSITORY', 'DIGEST', 'TAG', 'VERIFIED', 'ACTION', 'LAST SEEN'],
    findings.map((f) => [
      f.kind,
      f.repository,
      short(f.digest),
      f.tag ?? '-',
      f.verified ? 'yes' : 'no',
      f.action,
      f.lastSeen,
    ])
  );
}

/** The `replay --json` shape, also used by `pushguard local --json` finding lines. */
export function findingJson(f: Finding): Record<string, unknown> {
  return {
    kind: f.kind,
    repository: f.repository,
    digest: f.digest ?? null,
    tag: f.tag ?? null,
    verified: f.verified,
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
    evidence: f.evidence,
    action: f.action,
    ...(f.uploadId ? { uploadId: f.uploadId } : {}),
  };
}
