/**
 * The scheduled sweep (`sweep` function): the registry's Redis cache against S3, as
 * `pushguard audit --fix` does, with the same remediator as `remediate` (dry-run by default,
 * caps, audit record first), built to finish at scale:
 * 1. The SCAN resumes from the cursor the last run saved (SweepProgress); '0' starts a pass.
 * 2. It goes slice by slice (`sliceDigests` cached digests each): a slice is checked, attributed,
 *    confirmed and fixed by runAudit, then its end cursor is saved, so a run that stops leaves
 *    nothing half done and the next scheduled run picks up at the next slice.
 * 3. Fixes run `fixConcurrency` at a time: each waits the settle delay between its two checks,
 *    and those waits overlap instead of queueing in groups of 4.
 * 4. No new slice starts when less than `reserveMs` of the invocation is left.
 */
import type { Digest } from '../domain/types.ts';
import type { RegistryCache, SweepProgress } from '../ports.ts';
import { type AuditDeps, type AuditSummary, runAudit, type StaleEntry } from './audit.ts';
import { createRemediator } from './remediate.ts';
import type { RemediatorDeps } from './remediate-types.ts';

export interface SweepDeps {
  audit: Omit<AuditDeps, 'fix' | 'onStale'>;
  remediator: RemediatorDeps;
  /** Where the last run stopped; without it every run sweeps the whole cache. */
  progress?: SweepProgress;
  /** Cached digests per slice. @default 20000 */
  sliceDigests?: number;
  /** Plans in flight at once (their settle waits overlap). @default 256 */
  fixConcurrency?: number;
  /** No slice starts with less than this left. @default 180000 */
  reserveMs?: number;
}

export type SweepSummary = AuditSummary & {
  /** Cursor this run started from ('0': a new pass). */
  resumedFrom: string;
  /** Cursor saved at the end ('0': the pass is complete). */
  cursor: string;
  slices: number;
};

export interface SweepOptions {
  /** Milliseconds left in the invocation. @default Infinity */
  remainingMs?: () => number;
  onStale?: (entry: StaleEntry) => void;
}

/** A view of the registry cache whose blob scan covers one slice from `start`. */
function slice(cache: RegistryCache, start: string, maxDigests: number, count?: number) {
  const view = {
    end: start,
    cache: {
      ...bind(cache),
      async *scanBlobDescriptors(): AsyncIterable<Digest[]> {
        let cursor = start;
        let seen = 0;
        do {
          const page = await cache.scanBlobDescriptorPage!(cursor, count);
          cursor = page.cursor;
          seen += page.digests.length;
          view.end = cursor;
          if (page.digests.length > 0) yield page.digests;
        } while (cursor !== '0' && seen < maxDigests);
      },
    } as RegistryCache,
  };
  return view;
}

function bind(cache: RegistryCache): RegistryCache {
  return {
    assertLooksLikeRegistryDb: () => cache.assertLooksLikeRegistryDb(),
    snapshot: (r) => cache.snapshot(r),
    compareAndDelete: (s) => cache.compareAndDelete(s),
    restore: (s) => cache.restore(s),
    scanBlobDescriptors: (c) => cache.scanBlobDescriptors(c),
    scanRepositoryBlobSets: (c) => cache.scanRepositoryBlobSets(c),
  };
}

function add(total: SweepSummary, s: AuditSummary): void {
  for (const k of ['checked', 'present', 'stale', 'unknown', 'recovered', 'untracked'] as const) {
    total[k] += s[k];
  }
  total.repositorySetsScanned = Math.max(total.repositorySetsScanned, s.repositorySetsScanned);
  total.unknownSamples.push(...s.unknownSamples.slice(0, 20 - total.unknownSamples.length));
  if (!s.fix) return;
  total.fix ??= { cleared: 0, wouldClear: 0, keysCleared: 0, skipped: 0, overCap: 0, errors: 0 };
  for (const k of [
    'cleared',
    'wouldClear',
    'keysCleared',
    'skipped',
    'overCap',
    'errors',
  ] as const) {
    total.fix[k] += s.fix[k];
  }
  total.fix.endRun = s.fix.endRun ?? total.fix.endRun;
}

export async function runSweep(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepSummary> {
  const started = Date.now();
  const remaining = options.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const reserve = deps.reserveMs ?? 180_000;
  const remediator = createRemediator(deps.remediator);
  const fix = {
    remediator,
    registryHost: deps.remediator.config.registryHost,
    cacheLayer: deps.remediator.config.cacheLayer,
    concurrency: deps.fixConcurrency ?? 256,
  };
  const cache = deps.audit.registryCache;
  const resumable = deps.progress !== undefined && cache.scanBlobDescriptorPage !== undefined;
  const resumedFrom = (resumable ? await deps.progress?.load() : undefined) ?? '0';
  const total: SweepSummary = {
    ...{ checked: 0, present: 0, stale: 0, unknown: 0, recovered: 0, untracked: 0 },
    repositorySetsScanned: 0,
    unknownSamples: [],
    durationMs: 0,
    resumedFrom,
    cursor: resumedFrom,
    slices: 0,
  };
  if (!resumable) {
    add(total, await runAudit({ ...deps.audit, fix, onStale: options.onStale }));
    total.cursor = '0';
    total.slices = 1;
  } else {
    do {
      const view = slice(cache, total.cursor, deps.sliceDigests ?? 20_000, deps.audit.scanCount);
      add(
        total,
        await runAudit({ ...deps.audit, registryCache: view.cache, fix, onStale: options.onStale })
      );
      total.cursor = view.end;
      total.slices++;
      await deps.progress?.save(total.cursor);
    } while (total.cursor !== '0' && remaining() > reserve);
  }
  total.durationMs = Date.now() - started;
  return total;
}
