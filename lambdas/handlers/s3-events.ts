/**
 * `s3-events`: SQS (S3 notifications and accepted webhooks) → ingestBatch, the whole batch at
 * once (≤ 10 Redis round trips). A bad record fails alone through `batchItemFailures`; this
 * handler never throws for a record (throwing would fail the whole batch).
 */
import type { SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod';
import { type IngestDeps, type IngestResult, ingestBatch } from '../app/ingest.ts';
import { count, logger, MetricName } from '../observability.ts';
import { composeIngest } from './compose/correlation.ts';
import { lazyHandler } from './compose/lazy-handler.ts';
import { observedHandler } from './compose/observed.ts';

// The SQS envelope checked here, not with Powertools' parser (which would bring all of zod's
// locales, a third of the bundle); each body is checked by the normalisers.
const SqsEnvelope = z.object({
  Records: z.array(z.looseObject({ messageId: z.string().min(1), body: z.string() })),
});

export const makeHandler = (deps: IngestDeps) =>
  observedHandler<unknown, SQSBatchResponse>().handler(async (raw) => {
    const event = SqsEnvelope.parse(raw);
    const records = event.Records.map((r) => ({ id: r.messageId, body: r.body }));
    let result: IngestResult;
    try {
      result = await ingestBatch(records, deps);
    } catch (err) {
      logger.error('batch failed; every record is retried', err as Error);
      return { batchItemFailures: records.map((r) => ({ itemIdentifier: r.id })) };
    }
    for (const f of result.failures) {
      logger.warn('record failed', { messageId: f.id, error: f.error.message });
    }
    for (const e of result.deferred ?? []) logger.warn('deferred', { error: e.message });
    count(MetricName.EventsReceived, result.events);
    count(MetricName.RecordsFailed, result.failures.length);
    count(MetricName.DuplicateEventsSkipped, result.duplicates ?? 0);
    count(MetricName.Findings, result.findings.length);
    return { batchItemFailures: result.failures.map((f) => ({ itemIdentifier: f.id })) };
  });

export const handler = lazyHandler(async () => makeHandler(await composeIngest()));
