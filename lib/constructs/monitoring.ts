/**
 * Alarms and a dashboard for the pipeline.
 *
 * Default settings: per queue, an alarm when its DLQ holds any message and when its oldest message
 * is older than 15 minutes; an alarm when a stand-alone failure queue holds any message; per function, an alarm on any error in 5 minutes; an alarm when any
 * finding is emitted (EMF metric `PushGuard/Findings`); every alarm notifies the alarm topic on
 * ALARM and OK; missing data is "not breaching". One dashboard shows all of it.
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { assertValidProps } from './props.ts';
import type { QueueWithDlq } from './queue-with-dlq.ts';

/** Namespace and names of the EMF metrics the handlers emit (lambdas/observability.ts). */
export const METRICS_NAMESPACE = 'PushGuard';
export const FINDINGS_METRIC = 'Findings';
/** lambdas/observability.ts MetricName.SweepFixErrors. */
export const SWEEP_FIX_ERRORS_METRIC = 'SweepFixErrors';

export interface MonitoringProps {
  /** Queues by a short name (used in alarm names). */
  readonly queues: Readonly<Record<string, QueueWithDlq>>;
  /** Functions by a short name. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Alarm actions go here. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Stand-alone dead-letter queues (async deliveries) by a short name: alarmed on depth.
   * @default - none
   */
  readonly deadLetterQueues?: Readonly<Record<string, sqs.IQueue>>;
  /**
   * Age of the oldest message that raises an alarm.
   * @default Duration.minutes(15)
   */
  readonly maxMessageAge?: Duration;
  /**
   * Powertools service name (the `service` dimension of the findings metric).
   * @default 'pushguard'
   */
  readonly serviceName?: string;
}

export class Monitoring extends Construct {
  public readonly alarms: cw.Alarm[] = [];
  public readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const maxAge = props.maxMessageAge ?? Duration.minutes(15);
    const problems: string[] = [];
    if (Object.keys(props.queues).length === 0) problems.push('queues must not be empty');
    if (Object.keys(props.functions).length === 0) problems.push('functions must not be empty');
    if (maxAge.toSeconds() < 60) problems.push('maxMessageAge must be at least 60 s');
    assertValidProps('Monitoring', problems);

    const period = Duration.minutes(5);
    const action = new actions.SnsAction(props.alarmTopic);
    // Every alarm fires on one period above its threshold, treats no data as fine, and tells the topic
    // both ways.
    const alarmAbove = (metric: cw.Metric, id: string, description: string, threshold = 0) => {
      const alarm = metric.createAlarm(this, id, {
        alarmDescription: description,
        threshold,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
      return alarm;
    };
    // PushGuard's own EMF counters, summed per period.
    const serviceSum = (metricName: string) =>
      new cw.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: props.serviceName ?? 'pushguard' },
        statistic: 'Sum',
        period,
      });
    const widgets: cw.IWidget[] = [];
    for (const [name, q] of Object.entries(props.queues)) {
      const depth = q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      });
      const age = q.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' });
      alarmAbove(depth, `${name}DlqDepth`, `${name}: messages in the DLQ (inspect, then redrive)`);
      alarmAbove(
        age,
        `${name}OldestMessage`,
        `${name}: oldest message older than ${maxAge.toMinutes()} min`,
        maxAge.toSeconds()
      );
      widgets.push(new cw.GraphWidget({ title: `${name} queue`, left: [age], right: [depth] }));
    }
    for (const [name, dlq] of Object.entries(props.deadLetterQueues ?? {})) {
      const depth = dlq.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      });
      alarmAbove(
        depth,
        `${name}FailuresDepth`,
        `${name}: failed deliveries kept in the queue (inspect, then replay)`
      );
      widgets.push(new cw.GraphWidget({ title: `${name} failures`, left: [depth] }));
    }
    const errors: cw.IMetric[] = [];
    for (const [name, fn] of Object.entries(props.functions)) {
      const metric = fn.metricErrors({ period, statistic: 'Sum', label: name });
      errors.push(metric);
      alarmAbove(metric, `${name}Errors`, `${name}: function errors (see its log group)`);
    }
    const findings = serviceSum(FINDINGS_METRIC);
    alarmAbove(findings, 'Findings', 'PushGuard emitted findings (see the findings topic / Slack)');
    // Fixes the sweep could not carry out (audit write, Redis...): the sweep also fails, but a
    // retry that succeeds would hide them from the Errors alarm.
    const fixErrors = serviceSum(SWEEP_FIX_ERRORS_METRIC);
    alarmAbove(
      fixErrors,
      'SweepFixErrors',
      'The sweep could not fix stale cache entries it found (see its log)'
    );
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
      widgets: [
        [
          new cw.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
          new cw.GraphWidget({ title: 'Findings', left: [findings], width: 12 }),
          new cw.GraphWidget({ title: 'Function errors', left: errors, width: 12 }),
        ],
        widgets,
      ],
    });
  }
}
