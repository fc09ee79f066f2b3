/**
 * The audit sweep: the registry's Redis blob-descriptor cache checked against S3, key by key.
 *
 * 1. Sweep: SCAN `blobs::*` page by page and HEAD each digest's `blobs/…/data` object with bounded
 *    concurrency (p-limit). The producer waits while 2× `concurrency` checks are queued, so memory
 *    holds one SCAN page and the checks in flight, never the list of all digests.
 *    `present` is counted; `unknown` (timeout, throttling, 5xx, 403) is counted apart and is never
 *    stale; `missing` makes the digest a stale candidate (the only per-digest state kept).
 * 2. Attribution (only if there are candidates): SCAN the `repository::<r>::blobs` sets and note,
 *    for each candidate, the repositories that list it. A digest no set lists is a manifest (v2.8
 *    caches manifests only in `blobs::`); otherwise a layer or config of those repositories.
 * 3. Confirmation: HEAD each candidate again (the attribution scan is the settle delay); only a
 *    second `missing` reports it. Each entry says what it breaks.
 * 4. With a remediator (`--fix`): planForStaleDigest and `remediator.execute(plan)`, which applies
 *    the remediator's own rules (re-check twice, DB check, caps, audit record first,
 *    compare-and-delete); then `endRun()` turns whatever was over the cap into one ticket.
 */
import pLimit from 'p-limit';
import { blobDataKey } from '../domain/keys.ts';
import { whatItBreaks } from '../domain/messages.ts';
import { planForStaleDigest, type RemediationPlan } from '../domain/remediation.ts';
import type { Digest, FindingKind } from '../domain/types.ts';
import type { Presence, RegistryCache, StorageChecker } from '../ports.ts';

/** What the sweep needs from the remediator (lambdas/app/remediate.ts). */
export interface AuditRemediator {
  execute(plan: RemediationPlan): Promise<FixReport>;
  endRun(): Promise<FixReport | undefined>;
}

/** The part of the remediator's ActionReport the sweep reports. */
export interface FixReport {
  decision: string;
  plannedKeys: string[];
  clearedKeys: string[];
  changedKeys: string[];
  auditId?: string;
  ticket?: { id: string; url: string; created: boolean };
}

export interface StaleEntry {
  digest: Digest;
  /** The S3 object that is missing. */
  dataKey: string;
  kind: Extract<FindingKind, 'manifest-data-missing' | 'layer-data-missing'>;
  /** Repositories whose blob set lists the digest (empty for a manifest). */
  repositories: string[];
  /** The cache keys that make the registry believe the data exists. */
  staleKeys: string[];
  breaks: string;
  /** With a remediator: what it did. */
  fix?: FixReport | { decision: 'error'; error: string };
}

export interface AuditProgress {
  phase: 'sweep' | 'attribute' | 'confirm' | 'fix';
  checked: number;
  present: number;
  candidates: number;
  unknown: number;
}

export interface AuditSummary {
  checked: number;
  present: number;
  stale: number;
  unknown: number;
  /** Missing on the first HEAD, present on the confirmation. */
  recovered: number;
  /** Candidates beyond `maxTracked` were counted but neither reported nor fixed. */
  untracked: number;
  repositorySetsScanned: number;
  /** First unknown answers (key and reason), for the report. */
  unknownSamples: { key: string; reason: string }[];
  fix?: {
    cleared: number;
    wouldClear: number;
    keysCleared: number;
    skipped: number;
    overCap: number;
    errors: number;
    /** The circuit breaker's summary ticket, from endRun(). */
    endRun?: FixReport;
  };
  durationMs: number;
}

export interface AuditDeps {
  checker: StorageChecker & {
    headDetailed?(key: string): Promise<{ presence: Presence; reason?: string }>;
  };
  registryCache: RegistryCache;
  rootDirectory: string;
  /** Concurrent HEADs. @default 32 */
  concurrency?: number;
  /** SCAN COUNT hint. @default 1000 */
  scanCount?: number;
  /** Stale candidates kept for attribution and fixing. @default 100000 */
  maxTracked?: number;
  fix?: {
    remediator: AuditRemediator;
    registryHost: string;
    cacheLayer: boolean;
    /** Plans executed at once. @default 4 */
    concurrency?: number;
  };
  now?: () => number;
  onProgress?: (p: AuditProgress) => void;
  /** Called once per confirmed stale entry, in digest order, after its fix when fixing. */
  onStale?: (entry: StaleEntry) => void | Promise<void>;
}

const MAX_REPOS_PER_DIGEST = 1000;
const UNKNOWN_SAMPLES = 20;

/** One run's shared state: the counters, the candidates, the phase and the HEAD pool. */
interface Run {
  deps: AuditDeps;
  now: () => number;
  summary: AuditSummary;
  /** digest → repositories listing it: the only per-digest state, for missing data only. */
  candidates: Map<Digest, string[]>;
  phase: AuditProgress['phase'];
  concurrency: number;
  maxTracked: number;
  limit: ReturnType<typeof pLimit>;
}

export async function runAudit(deps: AuditDeps): Promise<AuditSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const concurrency = Math.max(1, deps.concurrency ?? 32);
  const run: Run = {
    deps,
    now,
    summary: {
      checked: 0,
      present: 0,
      stale: 0,
      unknown: 0,
      recovered: 0,
      untracked: 0,
      repositorySetsScanned: 0,
      unknownSamples: [],
      durationMs: 0,
    },
    candidates: new Map(),
    phase: 'sweep',
    concurrency,
    maxTracked: deps.maxTracked ?? 100_000,
    limit: pLimit(concurrency),
  };
  await sweep(run);
  await attribute(run);
  const entries = await confirm(run);
  await fixAndReport(run, entries);
  run.summary.durationMs = now() - started;
  progress(run);
  return run.summary;
}

function progress(run: Run): void {
  run.deps.onProgress?.({
    phase: run.phase,
    checked: run.summary.checked,
    present: run.summary.present,
    candidates: run.candidates.size,
    unknown: run.summary.unknown,
  });
}

async function head(run: Run, key: string): Promise<{ presence: Presence; reason?: string }> {
  const checker = run.deps.checker;
  return checker.headDetailed ? checker.headDetailed(key) : { presence: await checker.head(key) };
}

function noteUnknown(run: Run, key: string, reason?: string): void {
  run.summary.unknown++;
  if (run.summary.unknownSamples.length < UNKNOWN_SAMPLES) {
    run.summary.unknownSamples.push({ key, reason: reason ?? 'unknown' });
  }
}

/** 1. Sweep, with backpressure: at most 2 × concurrency checks queued or running. */
async function sweep(run: Run): Promise<void> {
  const { deps, summary, candidates } = run;
  let queued = 0;
  let wake: (() => void) | undefined;
  const slotFreed = () => new Promise<void>((r) => (wake = r));
  const check = async (digest: Digest) => {
    const key = blobDataKey(deps.rootDirectory, digest);
    const r = await head(run, key);
    summary.checked++;
    if (r.presence === 'present') summary.present++;
    else if (r.presence === 'unknown') noteUnknown(run, key, r.reason);
    else if (candidates.size < run.maxTracked) candidates.set(digest, []);
    else summary.untracked++;
    if (summary.checked % 1000 === 0) progress(run);
  };
  for await (const page of deps.registryCache.scanBlobDescriptors(deps.scanCount)) {
    for (const digest of page) {
      while (queued >= 2 * run.concurrency) await slotFreed();
      queued++;
      void run
        .limit(() => check(digest))
        .catch((err) => noteUnknown(run, digest, err instanceof Error ? err.message : String(err)))
        .finally(() => {
          queued--;
          const w = wake;
          wake = undefined;
          w?.();
        });
    }
  }
  while (queued > 0) await slotFreed();
  progress(run);
}

/** 2. Attribution (only with candidates): which repositories' blob sets list each one. */
async function attribute(run: Run): Promise<void> {
  if (run.candidates.size === 0) return;
  run.phase = 'attribute';
  progress(run);
  const seenSets = new Set<string>();
  for await (const { repository, digests } of run.deps.registryCache.scanRepositoryBlobSets(
    run.deps.scanCount
  )) {
    seenSets.add(repository);
    for (const d of digests) {
      const repos = run.candidates.get(d);
      if (repos && repos.length < MAX_REPOS_PER_DIGEST && !repos.includes(repository)) {
        repos.push(repository);
      }
    }
  }
  run.summary.repositorySetsScanned = seenSets.size;
}

/** 3. Confirmation: a second HEAD per candidate, in digest order; only a second 404 is stale. */
async function confirm(run: Run): Promise<(StaleEntry | undefined)[]> {
  const { deps, summary, candidates } = run;
  run.phase = 'confirm';
  progress(run);
  if (deps.fix) {
    summary.fix = { cleared: 0, wouldClear: 0, keysCleared: 0, skipped: 0, overCap: 0, errors: 0 };
  }
  const digests = [...candidates.keys()].sort();
  const entries = await Promise.all(
    digests.map((digest) =>
      run.limit(async (): Promise<StaleEntry | undefined> => {
        const key = blobDataKey(deps.rootDirectory, digest);
        const again = await head(run, key).catch((err: unknown) => ({
          presence: 'unknown' as const,
          reason: err instanceof Error ? err.message : String(err),
        }));
        if (again.presence === 'present') {
          summary.recovered++;
          return undefined;
        }
        if (again.presence === 'unknown') {
          noteUnknown(run, key, again.reason);
          return undefined;
        }
        summary.stale++;
        const repositories = [...(candidates.get(digest) ?? [])].sort();
        return staleEntry(digest, key, repositories);
      })
    )
  );
  for (const d of digests) candidates.delete(d);
  return entries;
}

/** 4. Fix (with a remediator), `fix.concurrency` plans at a time; report each entry in order. */
async function fixAndReport(run: Run, entries: (StaleEntry | undefined)[]): Promise<void> {
  const { deps, summary } = run;
  const fixLimit = pLimit(Math.max(1, deps.fix?.concurrency ?? 4));
  const fixes = entries.map((entry) =>
    entry && deps.fix ? fixLimit(() => fixOne(entry, deps, summary, run.now)) : Promise.resolve()
  );
  if (deps.fix) run.phase = 'fix';
  for (const [i, entry] of entries.entries()) {
    if (!entry) continue;
    await fixes[i];
    await deps.onStale?.(entry);
  }
  if (deps.fix && summary.fix) {
    summary.fix.endRun = (await deps.fix.remediator.endRun()) ?? undefined;
  }
}

function staleEntry(digest: Digest, dataKey: string, repositories: string[]): StaleEntry {
  const kind = repositories.length === 0 ? 'manifest-data-missing' : 'layer-data-missing';
  const staleKeys = [`blobs::${digest}`];
  for (const r of repositories) {
    staleKeys.push(`repository::${r}::blobs ${digest}`, `repository::${r}::blobs::${digest}`);
  }
  return { digest, dataKey, kind, repositories, staleKeys, breaks: whatItBreaks(kind) };
}

async function fixOne(
  entry: StaleEntry,
  deps: AuditDeps,
  summary: AuditSummary,
  now: () => number
): Promise<void> {
  const fix = deps.fix;
  const counts = summary.fix;
  if (!fix || !counts) return;
  try {
    const plan = planForStaleDigest(entry.digest, entry.repositories, {
      rootDirectory: deps.rootDirectory,
      registryHost: fix.registryHost,
      cacheLayer: fix.cacheLayer,
      now: new Date(now()).toISOString(),
      evidence: [
        `audit: HeadObject ${entry.dataKey} answered 404 twice`,
        `redis: blobs::${entry.digest} describes it`,
        ...entry.repositories.slice(0, 10).map((r) => `redis: repository::${r}::blobs lists it`),
      ],
    });
    const report = await fix.remediator.execute(plan);
    entry.fix = report;
    if (report.decision === 'cleared') counts.cleared++;
    else if (report.decision === 'would-clear') counts.wouldClear++;
    else if (report.decision === 'over-cap') counts.overCap++;
    else counts.skipped++;
    counts.keysCleared += report.clearedKeys.length;
  } catch (err) {
    counts.errors++;
    entry.fix = { decision: 'error', error: err instanceof Error ? err.message : String(err) };
  }
}
