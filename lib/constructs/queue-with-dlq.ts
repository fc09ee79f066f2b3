/**
 * An SQS queue with its dead-letter queue.
 *
 * Default settings: SSE (SQS-managed keys) on both queues, `enforceSSL`, redrive after 5 receives,
 * 4 days retention (DLQ 14 days, always longer than the source), 256 KB maximum message size
 * (S3 notifications can reach 64 KB), visibility timeout 6 minutes (6× a 60 s consumer).
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { assertValidProps } from './props.ts';

export interface QueueWithDlqProps {
  /**
   * Visibility timeout of the main queue: at least 6× its consumer's timeout (SqsToLambda checks).
   * @default Duration.minutes(6)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before a message moves to the DLQ; at least 5 so transient errors are retried.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Retention of the main queue.
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;
  /**
   * Retention of the DLQ; must exceed the main queue's (a message keeps its enqueue time).
   * @default Duration.days(14)
   */
  readonly dlqRetentionPeriod?: Duration;
  /**
   * Maximum message size in bytes, 64 KB..256 KB.
   * @default 262144
   */
  readonly maxMessageSizeBytes?: number;
  /**
   * Extra queue props (e.g. a KMS key); cannot turn off encryption or SSL enforcement.
   * @default - none
   */
  readonly queueProps?: Omit<sqs.QueueProps, 'deadLetterQueue' | 'enforceSSL'>;
}

export class QueueWithDlq extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly visibilityTimeout: Duration;
  public readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps = {}) {
    super(scope, id);
    const visibilityTimeout = props.visibilityTimeout ?? Duration.minutes(6);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const retention = props.retentionPeriod ?? Duration.days(4);
    const dlqRetention = props.dlqRetentionPeriod ?? Duration.days(14);
    const maxMessageSizeBytes = props.maxMessageSizeBytes ?? 262_144;
    const problems: string[] = [];
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 5 || maxReceiveCount > 1000) {
      problems.push(`maxReceiveCount must be an integer in 5..1000, got ${maxReceiveCount}`);
    }
    if (maxMessageSizeBytes < 65_536 || maxMessageSizeBytes > 262_144) {
      problems.push(`maxMessageSizeBytes must be in 65536..262144, got ${maxMessageSizeBytes}`);
    }
    const vis = visibilityTimeout.toSeconds();
    if (vis < 1 || vis > 43_200) problems.push(`visibilityTimeout must be 1 s..12 h, got ${vis} s`);
    for (const [name, d] of [
      ['retentionPeriod', retention],
      ['dlqRetentionPeriod', dlqRetention],
    ] as const) {
      const s = d.toSeconds();
      if (s < 60 || s > 1_209_600) problems.push(`${name} must be 60 s..14 days, got ${s} s`);
    }
    if (dlqRetention.toSeconds() <= retention.toSeconds()) {
      problems.push('dlqRetentionPeriod must be longer than retentionPeriod');
    }
    if (props.queueProps?.encryption === sqs.QueueEncryption.UNENCRYPTED) {
      problems.push('queueProps.encryption cannot be UNENCRYPTED');
    }
    assertValidProps('QueueWithDlq', problems);

    const encryption = props.queueProps?.encryption ?? sqs.QueueEncryption.SQS_MANAGED;
    const encryptionMasterKey = props.queueProps?.encryptionMasterKey;
    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      encryption,
      encryptionMasterKey,
      enforceSSL: true,
      retentionPeriod: dlqRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the dead-letter queue; failed messages stop here for inspection.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      removalPolicy: RemovalPolicy.RETAIN,
      ...props.queueProps,
      encryption,
      encryptionMasterKey,
      enforceSSL: true,
      visibilityTimeout,
      retentionPeriod: retention,
      maxMessageSizeBytes,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
    this.visibilityTimeout = visibilityTimeout;
    this.maxReceiveCount = maxReceiveCount;
  }
}
