/**
 * `notify` (SNS findings topic → Slack): each SNS record's Message is a Notification (JSON, as
 * SnsNotifier publishes it). A delivery that still fails after deliver()'s retries throws, so
 * Lambda's async retries and then the on-failure queue keep it.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import { SnsSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import type { SnsEvent } from '@aws-lambda-powertools/parser/types';
import middy from '@middy/core';
import { z } from 'zod';
import { type DeliverOptions, deliver } from '../app/notify.ts';
import { count, logger, MetricName, metrics } from '../observability.ts';
import type { Notification, Notifier } from '../ports.ts';
import { composeNotify, lazyHandler } from './compose.ts';

const NotificationShape = z.looseObject({
  finding: z.looseObject({ id: z.string(), kind: z.string(), repository: z.string() }),
  outcome: z.string(),
  mode: z.enum(['dry-run', 'enforce']),
  severity: z.enum(['info', 'warning', 'critical']),
});

export interface NotifyDeps {
  notifiers: readonly Notifier[];
  deliverOptions?: DeliverOptions;
}

export const makeHandler = (deps: NotifyDeps) =>
  middy<SnsEvent, void>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(parser({ schema: SnsSchema }))
    .handler(async (event) => {
      for (const record of event.Records) {
        const n = NotificationShape.parse(
          JSON.parse(record.Sns.Message)
        ) as unknown as Notification;
        const report = await deliver(n, deps.notifiers, deps.deliverOptions);
        if (report.failed.length > 0) {
          count(MetricName.NotificationsFailed, report.failed.length);
          throw new Error(`notification ${n.finding.id} failed: ${JSON.stringify(report.failed)}`);
        }
        logger.info('notified', { findingId: n.finding.id, delivered: report.delivered });
      }
    });

export const handler = lazyHandler(async () => makeHandler(await composeNotify()));
