/**
 * `notify` (SNS findings topic → Slack): each SNS record's Message is a Notification (JSON, as
 * SnsNotifier publishes it). A delivery that still fails after deliver()'s retries throws, so
 * Lambda's async retries and then the on-failure queue keep it.
 */
import * as z from 'zod';
import { deliver, type NotifyDeps } from '../app/notify.ts';
import { count, logger, MetricName } from '../observability.ts';
import type { Notification } from '../ports.ts';
import { lazyHandler } from './compose/lazy-handler.ts';
import { composeNotify } from './compose/notify.ts';
import { observedHandler } from './compose/observed.ts';

// The SNS envelope checked here, not with Powertools' parser (which would bring all of zod's
// locales into the bundle).
const SnsEnvelope = z.object({
  Records: z
    .array(z.looseObject({ Sns: z.looseObject({ Message: z.string() }) }))
    .min(1, 'no SNS record'),
});

const NotificationShape = z.looseObject({
  finding: z.looseObject({ id: z.string(), kind: z.string(), repository: z.string() }),
  outcome: z.string(),
  mode: z.enum(['dry-run', 'enforce']),
  severity: z.enum(['info', 'warning', 'critical']),
});

export const makeHandler = (deps: NotifyDeps) =>
  observedHandler<unknown, void>().handler(async (raw) => {
    const event = SnsEnvelope.parse(raw);
    for (const record of event.Records) {
      const n = NotificationShape.parse(JSON.parse(record.Sns.Message)) as unknown as Notification;
      const report = await deliver(n, deps.notifiers, deps.deliverOptions);
      if (report.failed.length > 0) {
        count(MetricName.NotificationsFailed, report.failed.length);
        throw new Error(`notification ${n.finding.id} failed: ${JSON.stringify(report.failed)}`);
      }
      logger.info('notified', { findingId: n.finding.id, delivered: report.delivered });
    }
  });

export const handler = lazyHandler(async () => makeHandler(await composeNotify()));
