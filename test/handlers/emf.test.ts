/**
 * The webhook's EMF counters: one line per invocation in CloudWatch Embedded Metric Format, the
 * same namespace, `service` dimension and names Powertools Metrics uses for the other functions.
 */
import { describe, expect, it } from 'vitest';
import { EmfCounters } from '../../lambdas/emf.ts';
import { MetricName } from '../../lambdas/metric-names.ts';

describe('EmfCounters', () => {
  it('writes the counts of one invocation as one EMF line, then starts over', () => {
    const lines: string[] = [];
    const env = { POWERTOOLS_SERVICE_NAME: 'pushguard', POWERTOOLS_METRICS_NAMESPACE: 'PushGuard' };
    const c = new EmfCounters((l) => lines.push(l), env);
    c.add(MetricName.WebhooksAccepted);
    c.add(MetricName.WebhooksAccepted);
    c.add(MetricName.WebhooksRejected);
    c.flush(1_700_000_000_000);
    c.flush(1_700_000_000_001);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'PushGuard',
            Dimensions: [['service']],
            Metrics: [
              { Name: 'WebhooksAccepted', Unit: 'Count' },
              { Name: 'WebhooksRejected', Unit: 'Count' },
            ],
          },
        ],
      },
      service: 'pushguard',
      WebhooksAccepted: 2,
      WebhooksRejected: 1,
    });
  });

  it('writes nothing when metrics are disabled, as Powertools does', () => {
    const lines: string[] = [];
    const c = new EmfCounters((l) => lines.push(l), { POWERTOOLS_METRICS_DISABLED: 'true' });
    c.add(MetricName.WebhooksAccepted);
    c.flush();
    expect(lines).toEqual([]);
  });
});
