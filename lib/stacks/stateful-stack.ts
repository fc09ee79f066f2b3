/**
 * Everything that holds data or must outlive a redeploy of the functions: the event and findings
 * queues (with DLQs), a queue for failed asynchronous deliveries, the SNS topics and their KMS key,
 * the audit bucket (Object Lock, SSL only) and its access-log bucket, and the registry bucket's
 * notifications (the bucket itself is imported, never created).
 */
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTION_TIMEOUT_SECONDS, type PushGuardConfig, registryPrefix } from '../config.ts';
import { Notifications } from '../constructs/notifications.ts';
import { QueueWithDlq } from '../constructs/queue-with-dlq.ts';
import { S3ToSqs } from '../constructs/s3-to-sqs.ts';

export interface PushGuardStatefulProps {
  readonly config: PushGuardConfig;
  /**
   * Prefix of the audit bucket's name (`<prefix>-audit-<account>-<region>`, lower case).
   * @default 'pushguard'
   */
  readonly namePrefix?: string;
}

export interface StatefulStackProps extends StackProps, PushGuardStatefulProps {}

/** What the pipeline uses of the stateful half. */
export interface StatefulResources {
  /** S3 notifications and accepted webhooks, consumed by `s3-events`. */
  readonly events: QueueWithDlq;
  /** Verified findings, consumed by `remediate`. */
  readonly findings: QueueWithDlq;
  /** Failed deliveries of the bucket's EventBridge rule and of the Slack subscription. */
  readonly asyncFailures: sqs.Queue;
  readonly notifications: Notifications;
  readonly auditBucket: s3.Bucket;
}

/**
 * The audit bucket's name. Derived (not generated) so the pipeline stack can build the same ARN
 * from pseudo parameters instead of importing it: its PutObject grant then reads the same
 * before and after synthesis, and its cdk-nag acknowledgement matches.
 */
export function auditBucketName(scope: Stack, prefix = 'pushguard'): string {
  return `${prefix.toLowerCase()}-audit-${scope.account}-${scope.region}`;
}

/** The stateful half as a construct, for any stack (StatefulStack, or PushGuard in a user's). */
export class PushGuardStateful extends Construct implements StatefulResources {
  public readonly events: QueueWithDlq;
  public readonly findings: QueueWithDlq;
  public readonly asyncFailures: sqs.Queue;
  public readonly notifications: Notifications;
  public readonly auditBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PushGuardStatefulProps) {
    super(scope, id);
    const { config } = props;
    this.events = new QueueWithDlq(this, 'Events', {
      visibilityTimeout: Duration.seconds(6 * FUNCTION_TIMEOUT_SECONDS['s3-events']),
    });
    this.findings = new QueueWithDlq(this, 'Findings', {
      visibilityTimeout: Duration.seconds(6 * FUNCTION_TIMEOUT_SECONDS.remediate),
    });
    this.asyncFailures = new sqs.Queue(this, 'AsyncFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const id of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      Validations.of(this.asyncFailures).acknowledge({
        id,
        reason: 'This queue IS a dead-letter queue (EventBridge rule, SNS subscriptions).',
      });
    }
    this.notifications = new Notifications(this, 'Notifications', {
      alarmEmail: config.alarmEmail,
      deadLetterQueue: this.asyncFailures,
    });
    this.auditBucket = this.createAuditBucket(
      config.auditRetentionDays,
      auditBucketName(Stack.of(this), props.namePrefix)
    );
    new S3ToSqs(this, 'RegistryEvents', {
      bucketName: config.registryBucketName,
      prefix: registryPrefix(config),
      queue: this.events.queue,
      useEventBridge: config.useEventBridge,
      eventBridgeDeadLetterQueue: this.asyncFailures,
    });
  }

  private createAuditBucket(retentionDays: number, bucketName: string): s3.Bucket {
    const accessLogs = new s3.Bucket(this, 'AuditAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(400) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the audit bucket access logs; logging it would recurse.',
    });
    return new s3.Bucket(this, 'Audit', {
      bucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(retentionDays)),
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'audit/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/** The repository's stateful stack: PushGuardStateful and nothing else. */
export class StatefulStack extends Stack implements StatefulResources {
  public readonly events: QueueWithDlq;
  public readonly findings: QueueWithDlq;
  public readonly asyncFailures: sqs.Queue;
  public readonly notifications: Notifications;
  public readonly auditBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    // Id 'Default' adds nothing to logical ids: deployed stacks keep every resource they have.
    const parts = new PushGuardStateful(this, 'Default', props);
    this.events = parts.events;
    this.findings = parts.findings;
    this.asyncFailures = parts.asyncFailures;
    this.notifications = parts.notifications;
    this.auditBucket = parts.auditBucket;
  }
}
