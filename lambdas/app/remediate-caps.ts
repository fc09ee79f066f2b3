/**
 * Caps and the over-cap summary (reliability requirement 7): per finding, per run and per hour.
 * A finding over a cap is not touched and is collected; `summary()` turns everything collected in
 * a run into ONE ticket-worthy finding. Dry-run ignores the per-run and per-hour caps (it deletes
 * nothing) and never reserves budget; the per-finding cap still applies.
 */
import type { RemediationPlan } from '../domain/remediation.ts';
import type { Finding } from '../domain/types.ts';
import type { DeleteBudget } from '../ports.ts';
import type { RemediationMode } from './remediate-types.ts';

export interface OverCap {
  plan: RemediationPlan;
  keys: string[];
  reason: string;
}

export interface Caps {
  /** Why this finding may not act on `n` keys (or objects) now; reserves them when it may. */
  check(n: number): Promise<string | undefined>;
  collect(item: OverCap): void;
  /** Everything collected since the last call; resets the per-run count. */
  endRun(): OverCap[];
}

export interface CapsOptions {
  mode: RemediationMode;
  perFinding: number;
  perRun: number;
  budget: DeleteBudget;
  now: () => number;
}

export function createCaps(o: CapsOptions): Caps {
  let runReserved = 0;
  let collected: OverCap[] = [];
  return {
    check: async (n) => {
      if (n > o.perFinding) return `needs ${n} keys, over the per-finding cap of ${o.perFinding}`;
      if (o.mode === 'dry-run') return undefined;
      if (runReserved + n > o.perRun) {
        return `would exceed the per-run cap of ${o.perRun} (${runReserved} used)`;
      }
      runReserved += n; // synchronously, so concurrent executes cannot both pass
      let granted = 0;
      try {
        granted = await o.budget.reserve(n, o.now());
      } finally {
        if (granted < n) runReserved -= n;
      }
      if (granted < n) return `the per-hour delete budget granted ${granted} of ${n}`;
      return undefined;
    },
    collect: (item) => {
      collected.push(item);
    },
    endRun: () => {
      const items = collected;
      collected = [];
      runReserved = 0;
      return items;
    },
  };
}

export interface OverCapSummary {
  finding: Finding;
  title: string;
  body: string;
  outcome: string;
  keys: string[];
}

/** One summary of a run's over-cap findings (its ticket is deduplicated per kind/repo). */
export function overCapSummary(items: readonly OverCap[], now: string): OverCapSummary {
  const finding = summaryFinding(items, now);
  const keyCount = items.reduce((n, i) => n + i.keys.length, 0);
  const outcome =
    `Circuit breaker: ${items.length} finding(s) needing ${keyCount} key deletion(s) were over a ` +
    'delete cap and were NOT cleared. Review them and clear them in a later run, or raise the cap.';
  return {
    finding,
    title: `[PushGuard] Delete cap reached: ${items.length} finding(s), ${keyCount} key(s) not cleared`,
    body: summaryBody(items, outcome),
    outcome,
    keys: items.flatMap((i) => i.keys),
  };
}

function summaryFinding(items: readonly OverCap[], now: string): Finding {
  const first = items[0]!.plan.finding;
  const repos = [...new Set(items.map((i) => i.plan.finding.repository))];
  const repository = repos.length === 1 ? repos[0]! : `(${repos.length} repositories)`;
  const seen = items.map((i) => i.plan.finding.firstSeen).sort();
  return {
    id: `over-cap|${first.kind}|${repository}`,
    kind: first.kind,
    repository,
    firstSeen: seen[0] ?? now,
    lastSeen: now,
    evidence: items
      .slice(0, 50)
      .map((i) => `${i.plan.finding.repository}@${i.plan.finding.digest ?? '-'}: ${i.reason}`),
    verified: true,
    action: 'open-ticket',
  };
}

function summaryBody(items: readonly OverCap[], outcome: string): string {
  const lines = [
    outcome,
    '',
    '| Finding | Repository | Digest | Keys | Why |',
    '|---|---|---|---|---|',
  ];
  const shown = items.slice(0, 200);
  for (const i of shown) {
    const f = i.plan.finding;
    lines.push(
      `| ${f.kind} | \`${f.repository}\` | \`${f.digest ?? '-'}\` | ${i.keys.length} | ${i.reason} |`
    );
  }
  if (items.length > shown.length) lines.push('', `…and ${items.length - shown.length} more.`);
  lines.push(
    '',
    'Every one of them was verified missing from storage twice before being held back.'
  );
  return lines.join('\n');
}
