/**
 * The only Powertools Metrics instance (the Logger is lambdas/logger.ts; the webhook, whose bundle
 * has a size budget, counts with lambdas/emf.ts instead, under the same names). Service name and namespace come from
 * POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (set by PipelineFunction); the defaults
 * serve tests and `pushguard local`. Never log webhook bodies, headers or secret values.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricName } from './metric-names.ts';

export { logger } from './logger.ts';

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'PushGuard',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pushguard',
});

export { MetricName } from './metric-names.ts';

/** Adds `value` (Count) to a metric. */
export function count(name: (typeof MetricName)[keyof typeof MetricName], value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}
