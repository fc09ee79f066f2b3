/**
 * Runs the storage checks the engine asks for and feeds the answers back.
 *
 * Primary course of runChecks:
 * 1. Drop identical checks (same type, key, digest and repository): one storage call each.
 * 2. Run them with bounded concurrency: blob-data and revision-link checks are a HeadObject,
 *    manifest checks a GetObject and parse (its references go into the result).
 * 3. Any error, timeout or throttle is `unknown`; only the checker's own `missing` is missing.
 *
 * runCheckRounds repeats check → store.apply(results) while the engine asks for more (a manifest
 * that is present names its blobs, which are checked in the next round), up to `maxCheckRounds`.
 */
import pLimit from 'p-limit';
import type { EngineOutput } from '../domain/engine.ts';
import type { Check, CheckResultEvent } from '../domain/types.ts';
import type { Clock, StorageChecker, WindowStore } from '../ports.ts';

export interface RunChecksOptions {
  /** Storage calls in flight at once. @default 16 */
  concurrency?: number;
}

/** One stable identity per distinct question. */
export function checkIdentity(check: Check): string {
  const repository = 'repository' in check ? check.repository : '';
  return `${check.type}\n${check.key}\n${check.digest}\n${repository}`;
}

export async function runChecks(
  checks: readonly Check[],
  checker: StorageChecker,
  now: number,
  options: RunChecksOptions = {}
): Promise<CheckResultEvent[]> {
  const unique = new Map<string, Check>();
  for (const check of checks) {
    const id = checkIdentity(check);
    if (!unique.has(id)) unique.set(id, check);
  }
  const limit = pLimit(Math.max(1, options.concurrency ?? 16));
  return Promise.all([...unique.values()].map((check) => limit(() => runOne(check, checker, now))));
}

async function runOne(
  check: Check,
  checker: StorageChecker,
  now: number
): Promise<CheckResultEvent> {
  try {
    if (check.type === 'manifest') {
      const answer = await checker.readManifest(check.key);
      const result: CheckResultEvent = {
        source: 'check',
        check,
        presence: asPresence(answer.presence),
        time: now,
      };
      if (result.presence === 'present' && answer.references) {
        result.references = [...answer.references];
      }
      return result;
    }
    const presence = asPresence(await checker.head(check.key));
    return { source: 'check', check, presence, time: now };
  } catch {
    return { source: 'check', check, presence: 'unknown', time: now };
  }
}

function asPresence(value: unknown): CheckResultEvent['presence'] {
  return value === 'present' || value === 'missing' ? value : 'unknown';
}

export interface CheckRoundsResult {
  /** Findings the rounds produced (also in the store's outbox). */
  findings: EngineOutput['findings'];
  /** Checks left unanswered when the rounds ran out (asked again when their window closes). */
  pending: Check[];
  rounds: number;
  /** Storage calls made. */
  checked: number;
}

/** What the check rounds need; ingest and window-check deps are a superset of it. */
export interface CheckRoundsDeps {
  store: WindowStore;
  checker?: StorageChecker;
  clock: Clock;
  /** @default 3 */
  maxCheckRounds?: number;
  /** Storage checks in flight at once. @default 16 */
  checkConcurrency?: number;
}

/** Check → apply(results) rounds until no check is asked for or `maxCheckRounds` is reached. */
export async function runCheckRounds(
  checks: readonly Check[],
  deps: CheckRoundsDeps
): Promise<CheckRoundsResult> {
  const result: CheckRoundsResult = { findings: [], pending: [...checks], rounds: 0, checked: 0 };
  const maxRounds = deps.maxCheckRounds ?? 3;
  while (deps.checker && result.pending.length > 0 && result.rounds < maxRounds) {
    const results = await runChecks(result.pending, deps.checker, deps.clock.now(), {
      concurrency: deps.checkConcurrency,
    });
    result.rounds++;
    result.checked += results.length;
    const out = await deps.store.apply(results, deps.clock.now());
    result.findings.push(...out.findings);
    result.pending = out.checks;
  }
  return result;
}
