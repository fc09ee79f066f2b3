/**
 * Window check: the scheduled poll of the deadline index (every minute in AWS, every second
 * locally).
 *
 * Primary course:
 * 1. store.closeDue(now): every window whose deadline passed is closed; findings go to the outbox,
 *    and facts still unknown come back as storage checks (live mode).
 * 2. The same check rounds as ingest: check → apply(results), up to `maxCheckRounds`.
 * 3. Drain the outbox into the publisher (a failure leaves the findings for the next poll).
 * Errors of steps 2 and 3 are returned in `deferred`; a failing closeDue throws (nothing was
 * written, the next poll retries).
 */
import type { Finding } from '../domain/types.ts';
import type { FindingPublisher } from '../ports.ts';
import { type CheckRoundsDeps, runCheckRounds } from './check-runner.ts';
import { publishFindings } from './ingest.ts';

export interface WindowCheckDeps extends CheckRoundsDeps {
  publisher: FindingPublisher;
}

export interface WindowCheckResult {
  /** Findings published by this call (including earlier ones left in the outbox). */
  findings: Finding[];
  /** Findings the closed windows and their checks produced. */
  produced: number;
  /** Storage calls made. */
  checked: number;
  /** Checks still unanswered (asked again at their next deadline). */
  pending: number;
  deferred?: Error[];
}

export async function closeDueWindows(deps: WindowCheckDeps): Promise<WindowCheckResult> {
  const closed = await deps.store.closeDue(deps.clock.now());
  const produced = [...closed.findings];
  const deferred: Error[] = [];
  let checked = 0;
  let pending = closed.checks.length;
  try {
    const rounds = await runCheckRounds(closed.checks, deps);
    produced.push(...rounds.findings);
    checked = rounds.checked;
    pending = rounds.pending.length;
  } catch (err) {
    deferred.push(err instanceof Error ? err : new Error(String(err)));
  }
  const findings = await publishFindings(deps, deferred);
  const result: WindowCheckResult = { findings, produced: produced.length, checked, pending };
  if (deferred.length > 0) result.deferred = deferred;
  return result;
}
