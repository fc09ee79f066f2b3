/**
 * `remediate` (SQS findings queue): one remediator per invocation (a "run": caps per run, one
 * summary ticket for what was over a cap), each record on its own through Powertools'
 * BatchProcessor: a RetryableError (storage did not answer with certainty) or any other throw
 * fails that record only; it is retried, then dead-lettered.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createRemediator, type RemediatorDeps } from '../app/remediate.ts';
import { parseFinding } from '../domain/finding-schema.ts';
import { count, logger, MetricName } from '../observability.ts';
import { lazyHandler } from './compose/lazy-handler.ts';
import { observedHandler } from './compose/observed.ts';
import { composeRemediate } from './compose/remediator.ts';

export const processor = new BatchProcessor(EventType.SQS);

export const makeHandler = (deps: RemediatorDeps) =>
  observedHandler<SQSEvent, SQSBatchResponse>().handler(async (event, context) => {
    const remediator = createRemediator(deps);
    const onRecord = async (record: SQSRecord) => {
      const finding = parseFinding(record.body);
      const report = await remediator.remediate(finding);
      count(MetricName.KeysCleared, report.clearedKeys.length);
      if (report.ticket?.created) count(MetricName.TicketsOpened);
      count(MetricName.NotificationsFailed, report.notificationFailures);
      logger.info('remediated', { findingId: report.findingId, decision: report.decision });
    };
    const response = await processPartialResponse(event, onRecord, processor, { context });
    const summary = await remediator.endRun();
    if (summary) logger.warn('over cap: summary ticket', { ticket: summary.ticket?.url });
    return response;
  });

export const handler = lazyHandler(async () => makeHandler(await composeRemediate()));
