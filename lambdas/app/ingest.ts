/**
 * Ingest one batch of delivered messages (S3 notifications, SNS/EventBridge envelopes, Harbor
 * webhooks) into the correlation state.
 *
 * Primary course:
 * 1. Normalise each record; a malformed one fails alone (it is retried, then dead-lettered); an
 *    `s3:TestEvent` or an ignored type is skipped, not failed.
 * 2. Apply every good event in ONE store.apply (deduplicated on the events' dedupe keys). If the
 *    store throws (Redis down, endless race), every record that carried events fails: they are
 *    redelivered and dedupe makes the retry safe. The malformed ones are still reported.
 * 3. Answer the engine's storage checks and apply the results, round after round (manifest →
 *    the blobs it references), up to `maxCheckRounds`. Without a checker the checks wait for their
 *    window to close. A failure here fails no record: the events are applied, and the engine asks
 *    again at the deadline.
 * 4. Drain the store's outbox into the publisher. A publish failure leaves the findings in the
 *    outbox for the next drain (this batch's records are not failed: their effect is durable).
 * Returns the findings published by this call.
 */
import { normalizeMessage } from '../domain/events.ts';
import type { Finding, NormalizedEvent } from '../domain/types.ts';
import type { FindingPublisher, WindowStore } from '../ports.ts';
import { type CheckRoundsDeps, runCheckRounds } from './check-runner.ts';

/**
 * Events per part handed to a staging store while the rest of the batch is normalised: its reads
 * run meanwhile. A batch of up to this many events is read once, as by `apply`.
 */
const STAGE_EVENTS = 2_500;

export interface IngestDeps extends CheckRoundsDeps {
  publisher: FindingPublisher;
  /** Configured root directory of the registry's storage; detected per key when absent. */
  rootDirectory?: string;
}

export interface IngestResult {
  failures: { id: string; error: Error }[];
  /** Findings published by this call. */
  findings: Finding[];
  /** Events normalised from the good records. */
  events: number;
  /** Records skipped (test events, ignored types, unrelated keys only). */
  skipped: number;
  /** Events the store dropped as redeliveries. */
  duplicates?: number;
  /** Storage calls made by the check rounds. */
  checked?: number;
  /** Errors that failed no record: check rounds or publishing (retried later). */
  deferred?: Error[];
}

export async function ingestBatch(
  records: readonly { id: string; body: unknown }[],
  deps: IngestDeps
): Promise<IngestResult> {
  const result: IngestResult = { failures: [], findings: [], events: 0, skipped: 0 };
  const events: NormalizedEvent[] = [];
  const carriers: string[] = [];
  const opts = deps.rootDirectory === undefined ? {} : { rootDirectory: deps.rootDirectory };
  const staged = records.length > STAGE_EVENTS ? deps.store.stage(deps.clock.now()) : undefined;
  let stagedUpTo = 0;
  for (const record of records) {
    try {
      const normalized = normalizeMessage(record.body, opts);
      if (normalized.events.length === 0) {
        result.skipped++;
        continue;
      }
      for (const event of normalized.events) events.push(event);
      carriers.push(record.id);
    } catch (err) {
      result.failures.push({ id: record.id, error: asError(err) });
    }
    if (staged && events.length - stagedUpTo >= STAGE_EVENTS) {
      staged.add(events.slice(stagedUpTo));
      stagedUpTo = events.length;
    }
  }
  result.events = events.length;
  if (events.length === 0) return result;

  let output: Awaited<ReturnType<WindowStore['apply']>>;
  try {
    if (staged) {
      if (stagedUpTo < events.length) staged.add(events.slice(stagedUpTo));
      output = await staged.apply(deps.clock.now());
    } else output = await deps.store.apply(events, deps.clock.now());
  } catch (err) {
    const error = asError(err);
    for (const id of carriers) result.failures.push({ id, error });
    return result;
  }
  result.duplicates = output.duplicates;

  const deferred: Error[] = [];
  try {
    const rounds = await runCheckRounds(output.checks, deps);
    result.checked = rounds.checked;
  } catch (err) {
    deferred.push(asError(err));
  }
  result.findings = await publishFindings(deps, deferred);
  if (deferred.length > 0) result.deferred = deferred;
  return result;
}

/** Drains the store's outbox into the publisher; errors are collected in `deferred`, not thrown. */
export async function publishFindings(
  deps: { store: WindowStore; publisher: FindingPublisher },
  deferred: Error[]
): Promise<Finding[]> {
  try {
    return await deps.store.drainOutbox((page) => deps.publisher.publish(page));
  } catch (err) {
    deferred.push(asError(err));
    return [];
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
