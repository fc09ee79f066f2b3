/**
 * Counters written as one CloudWatch Embedded Metric Format line per invocation, for the webhook:
 * Powertools Metrics would be 14 KB of its 300 KB bundle. Same namespace, `service` dimension and
 * metric names as lambdas/observability.ts, so alarms and the dashboard see the same metrics.
 * Written to stdout as raw JSON (not through console, which Lambda would wrap).
 */
import type { MetricName } from './metric-names.ts';

type Name = (typeof MetricName)[keyof typeof MetricName];

export class EmfCounters {
  private readonly counts = new Map<Name, number>();

  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
    private readonly env: Readonly<Record<string, string | undefined>> = process.env
  ) {}

  add(name: Name, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }

  /** Writes the counts (if any, and unless POWERTOOLS_METRICS_DISABLED) and starts over. */
  flush(now = Date.now()): void {
    const counts = [...this.counts];
    this.counts.clear();
    if (counts.length === 0 || this.env.POWERTOOLS_METRICS_DISABLED === 'true') return;
    const line = {
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: this.env.POWERTOOLS_METRICS_NAMESPACE ?? 'PushGuard',
            Dimensions: [['service']],
            Metrics: counts.map(([Name]) => ({ Name, Unit: 'Count' })),
          },
        ],
      },
      service: this.env.POWERTOOLS_SERVICE_NAME ?? 'pushguard',
      ...Object.fromEntries(counts),
    };
    this.write(`${JSON.stringify(line)}\n`);
  }

  /** A middy middleware that flushes after each invocation, failed ones included. */
  middleware() {
    const flush = async () => this.flush();
    return { after: flush, onError: flush };
  }
}
