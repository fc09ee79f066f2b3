/**
 * `pushguard audit`: sweeps the registry's Redis blob-descriptor cache against S3, key by key.
 * Composition root of the sweep (lambdas/app/audit.ts): S3 checker, Redis caches and, with --fix,
 * the remediator in enforce mode. Exit codes: 0 clean, 3 stale keys found, 1 error (or digests
 * that could not be checked, so the cache cannot be called clean).
 */
import { SingleBar } from 'cli-progress';
import type { Redis } from 'ioredis';
import { FileAuditLog } from '../../adapters/file-audit-log.ts';
import { connectRedis } from '../../adapters/redis-client.ts';
import { RedisDeleteBudget } from '../../adapters/redis-delete-budget.ts';
import { RedisRegistryCache } from '../../adapters/redis-registry-cache.ts';
import { S3StorageChecker } from '../../adapters/s3-storage-checker.ts';
import {
  type AuditProgress,
  type AuditRemediator,
  type AuditSummary,
  runAudit,
  type StaleEntry,
} from '../../app/audit.ts';
import { createRemediator } from '../../app/remediate.ts';
import { ConfigError } from '../../domain/errors.ts';
import { shortDigest } from '../../domain/messages.ts';
import type { DeleteBudget } from '../../ports.ts';
import { ensureIgnored, VERSION } from '../defaults.ts';
import type { AuditCliOptions } from '../options.ts';

/** Runs the audit as the CLI does; resolves to the exit code. */
export async function audit(opts: AuditCliOptions): Promise<number> {
  const checker = storageChecker(opts);
  const clients: Redis[] = [];
  const rows: StaleEntry[] = [];
  const bar = progressBar();
  try {
    const registryClient = await connect(opts.redis, 'registry');
    clients.push(registryClient);
    const registryCache = new RedisRegistryCache(registryClient, { store: 'registry' });
    // Read-only sweeps refuse only a foreign DB; the remediator checks for a registry DB itself.
    await registryCache.assertNotForeignDb();
    let cacheLayer: RedisRegistryCache | undefined;
    if (opts.cacheLayerRedis) {
      const c = await connect(opts.cacheLayerRedis, 'cache-layer');
      clients.push(c);
      cacheLayer = new RedisRegistryCache(c, { store: 'cache-layer' });
    }
    const fix = opts.fix
      ? await fixRemediator(opts, { checker, registryCache, cacheLayer, clients })
      : undefined;
    const summary = await runAudit({
      checker,
      registryCache,
      rootDirectory: opts.s3.rootDirectory,
      concurrency: opts.concurrency,
      fix: fix && {
        remediator: fix.remediator,
        registryHost: opts.registryHost,
        cacheLayer: cacheLayer !== undefined,
      },
      onProgress: bar?.update,
      onStale: (entry) => {
        if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'stale', ...entry })}\n`);
        else rows.push(entry);
      },
    });
    bar?.stop();
    report(opts, { ...summary, auditDir: fix?.auditDir }, rows);
    return exitCode(summary);
  } finally {
    bar?.stop();
    for (const c of clients) c.disconnect();
    checker.destroy();
  }
}

function storageChecker(opts: AuditCliOptions): S3StorageChecker {
  return new S3StorageChecker({
    bucket: opts.s3.bucket,
    timeoutMs: opts.timeoutMs,
    clientConfig: {
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint, forcePathStyle: true } : {}),
      requestHandler: {
        httpAgent: { keepAlive: true, maxSockets: opts.concurrency },
        httpsAgent: { keepAlive: true, maxSockets: opts.concurrency },
      },
    },
  });
}

/** --fix: the remediator in enforce mode; a state Redis it connects joins `clients` (closed by the caller). */
async function fixRemediator(
  opts: AuditCliOptions,
  deps: {
    checker: S3StorageChecker;
    registryCache: RedisRegistryCache;
    cacheLayer: RedisRegistryCache | undefined;
    clients: Redis[];
  }
): Promise<{ remediator: AuditRemediator; auditDir: string }> {
  const auditDir = ensureIgnored(opts.auditDir);
  process.stderr.write(`pushguard audit: audit records go to ${auditDir}\n`);
  let budget: DeleteBudget = new RunBudget(opts.maxDeletesPerHour);
  if (opts.stateRedis) {
    const state = await connect(opts.stateRedis, 'state');
    deps.clients.push(state);
    budget = new RedisDeleteBudget(state, { perHour: opts.maxDeletesPerHour });
  }
  const remediator = createRemediator({
    checker: deps.checker,
    registryCache: deps.registryCache,
    cacheLayer: deps.cacheLayer,
    audit: new FileAuditLog(auditDir),
    budget,
    notifiers: [],
    clock: { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    config: {
      mode: 'enforce',
      settleMs: opts.settleMs,
      maxKeysPerFinding: opts.maxKeysPerFinding,
      maxDeletesPerRun: opts.maxDeletes,
      rootDirectory: opts.s3.rootDirectory,
      registryHost: opts.registryHost,
      actor: opts.actor,
      version: VERSION,
      cacheLayer: deps.cacheLayer !== undefined,
    },
  });
  return { remediator, auditDir };
}

/** 3 stale keys found; 1 when digests could not be checked (the cache cannot be called clean). */
function exitCode(summary: AuditSummary): number {
  if (summary.stale > 0) return 3;
  if (summary.unknown > 0) {
    process.stderr.write(
      `pushguard audit: ${summary.unknown} digest(s) could not be checked (S3 did not answer with certainty); not calling the cache clean\n`
    );
    return 1;
  }
  return 0;
}

async function connect(url: string, what: string): Promise<Redis> {
  try {
    return await connectRedis(url, { connectionName: `pushguard-audit-${what}` });
  } catch (err) {
    throw new ConfigError([
      `cannot connect to the ${what} Redis ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${
        err instanceof Error ? err.message : String(err)
      }`,
    ]);
  }
}

function progressBar() {
  if (!process.stderr.isTTY) return undefined;
  const bar = new SingleBar({
    stream: process.stderr,
    format:
      'pushguard audit [{phase}] {value} digests checked · {present} present · {candidates} missing · {unknown} unknown · {duration_formatted}',
    hideCursor: true,
    clearOnComplete: false,
    fps: 5,
  });
  bar.start(Number.MAX_SAFE_INTEGER, 0, { phase: 'sweep', present: 0, candidates: 0, unknown: 0 });
  let stopped = false;
  return {
    update: (p: AuditProgress) => {
      if (!stopped) bar.update(p.checked, { ...p });
    },
    stop: () => {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function fixText(e: StaleEntry): string {
  if (!e.fix) return '';
  if (e.fix.decision === 'error') return `error: ${'error' in e.fix ? e.fix.error : ''}`;
  const cleared = 'clearedKeys' in e.fix ? e.fix.clearedKeys.length : 0;
  return `${e.fix.decision}${cleared ? ` (${cleared} keys)` : ''}`;
}

function report(
  opts: AuditCliOptions,
  s: AuditSummary & { auditDir?: string },
  rows: StaleEntry[]
): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ type: 'summary', ...s })}\n`);
    return;
  }
  const out: string[] = [];
  if (rows.length > 0) {
    const repos = rows.map((e) => e.repositories.join(',') || '-');
    const fixes = rows.map(fixText);
    const wRepo = Math.min(60, Math.max(12, ...repos.map((r) => r.length)));
    const wFix = Math.max(3, ...fixes.map((f) => f.length));
    const row = (d: string, k: string, r: string, f: string, b: string) =>
      `${pad(d, 20)}  ${pad(k, 21)}  ${pad(r, wRepo)}  ${opts.fix ? `${pad(f, wFix)}  ` : ''}${b}`;
    out.push(row('DIGEST', 'KIND', 'REPOSITORIES', 'FIX', 'WHAT IT BREAKS'));
    rows.forEach((e, i) => {
      out.push(row(shortDigest(e.digest), e.kind, repos[i] ?? '', fixes[i] ?? '', e.breaks));
    });
    out.push('');
  }
  const line = (k: string, v: number | string) => out.push(`  ${pad(k, 26)} ${v}`);
  out.push('Summary');
  line('digests checked', s.checked);
  line('present in S3', s.present);
  line('stale (data missing)', s.stale);
  line('unknown (not checked)', s.unknown);
  if (s.recovered) line('reappeared on re-check', s.recovered);
  if (s.untracked) line('missing, beyond the cap', s.untracked);
  line('repository sets scanned', s.repositorySetsScanned);
  if (s.fix) {
    line('fix: cleared findings', s.fix.cleared);
    line('fix: keys cleared', s.fix.keysCleared);
    line('fix: skipped', s.fix.skipped);
    line('fix: over the cap', s.fix.overCap);
    line('fix: errors', s.fix.errors);
    if (s.fix.endRun?.ticket) line('fix: summary ticket', s.fix.endRun.ticket.url);
    if (s.auditDir) line('fix: audit records in', s.auditDir);
  }
  line('duration', `${(s.durationMs / 1000).toFixed(1)} s`);
  for (const u of s.unknownSamples.slice(0, 5)) out.push(`  unknown: ${u.key} (${u.reason})`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The hourly budget of a CLI run without a state Redis: this process only. */
class RunBudget implements DeleteBudget {
  private left: number;
  constructor(perHour: number) {
    this.left = perHour;
  }
  async reserve(wanted: number): Promise<number> {
    const grant = Math.max(0, Math.min(wanted, this.left));
    this.left -= grant;
    return grant;
  }
}
