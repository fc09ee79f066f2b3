/**
 * `PushGuard`: the whole of PushGuard as one construct, for a CDK app of one's own
 * (`new PushGuard(this, 'Guard', {...})` in any stack, e.g. next to Harbor). Its props are the
 * `pushguard` object of cdk.json, typed, and validated by the same schema (lib/config.ts): an
 * invalid configuration throws one ConfigError listing every problem. It composes what the
 * repository's two stacks compose (lib/stacks/), in one scope: queues, topics, the audit bucket
 * and the registry bucket's notifications (PushGuardStateful), then the functions, their triggers,
 * grants, alarms and dashboard (PushGuardPipeline).
 */
import { Construct } from 'constructs';
import { type PushGuardConfig, type PushGuardConfigInput, parsePushGuardConfig } from './config.ts';
import { PushGuardPipeline } from './stacks/pipeline-stack.ts';
import { PushGuardStateful } from './stacks/stateful-stack.ts';

export interface PushGuardProps extends PushGuardConfigInput {
  /**
   * Prefix of the audit bucket's name (`<prefix>-audit-<account>-<region>`, lower case): give each
   * PushGuard of one account and region its own.
   * @default 'pushguard'
   */
  readonly namePrefix?: string;
}

export class PushGuard extends Construct {
  /** The validated configuration, defaults applied. */
  public readonly config: PushGuardConfig;
  /** Queues, topics, the audit bucket, the registry bucket's notifications. */
  public readonly stateful: PushGuardStateful;
  /** The six functions, the webhook API, schedules, alarms and dashboard. */
  public readonly pipeline: PushGuardPipeline;

  constructor(scope: Construct, id: string, props: PushGuardProps) {
    super(scope, id);
    const { namePrefix, ...settings } = props;
    this.config = parsePushGuardConfig(settings);
    this.stateful = new PushGuardStateful(this, 'Stateful', { config: this.config, namePrefix });
    this.pipeline = new PushGuardPipeline(this, 'Pipeline', {
      config: this.config,
      stateful: this.stateful,
      namePrefix,
    });
  }
}
