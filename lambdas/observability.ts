/**
 * The only Powertools Logger and Metrics instances. Service name and namespace come from
 * POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (set by PipelineFunction); the defaults
 * serve tests and `pushguard local`. Never log webhook bodies, headers or secret values.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pushguard',
});

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'PushGuard',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pushguard',
});

/** Fixed business metric names (the Findings alarm in lib/constructs/monitoring.ts uses one). */
export const MetricName = {
  EventsReceived: 'EventsReceived',
  RecordsFailed: 'RecordsFailed',
  DuplicateEventsSkipped: 'DuplicateEventsSkipped',
  WebhooksAccepted: 'WebhooksAccepted',
  WebhooksRejected: 'WebhooksRejected',
  Findings: 'Findings',
  KeysCleared: 'KeysCleared',
  TicketsOpened: 'TicketsOpened',
  NotificationsFailed: 'NotificationsFailed',
  SweepFixErrors: 'SweepFixErrors',
} as const;

/** Adds `value` (Count) to a metric. */
export function count(name: (typeof MetricName)[keyof typeof MetricName], value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}
