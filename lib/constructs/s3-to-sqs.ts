/**
 * Sends the EXISTING registry bucket's events under `[root/]docker/registry/v2/` to an SQS queue.
 *
 * Default settings: S3 event notifications (ObjectCreated:*, ObjectRemoved:*, LifecycleExpiration:*)
 * added next to the bucket's other notifications (CDK's unmanaged bucket-notifications resource keeps
 * what others configured). With `useEventBridge`, the bucket's EventBridge delivery is switched on
 * and a rule on the default bus forwards Object Created / Object Deleted events of that prefix.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { assertValidProps } from './props.ts';

export interface S3ToSqsProps {
  /** Name of the existing bucket; imported, never created or deleted. */
  readonly bucketName: string;
  /** Key prefix to watch, e.g. `docker/registry/v2/`; must end with `docker/registry/v2/`. */
  readonly prefix: string;
  /** Destination queue (standard, not FIFO). */
  readonly queue: sqs.IQueue;
  /**
   * Route through EventBridge (bucket-level switch, then a rule) instead of S3 notifications.
   * @default false
   */
  readonly useEventBridge?: boolean;
  /**
   * Where undeliverable EventBridge events go (only with useEventBridge).
   * @default - none
   */
  readonly eventBridgeDeadLetterQueue?: sqs.IQueue;
}

export class S3ToSqs extends Construct {
  public readonly bucket: s3.IBucket;
  public readonly rule?: events.Rule;

  constructor(scope: Construct, id: string, props: S3ToSqsProps) {
    super(scope, id);
    const problems: string[] = [];
    if (!props.prefix.endsWith('docker/registry/v2/')) {
      problems.push(`prefix must end with docker/registry/v2/, got "${props.prefix}"`);
    }
    if (props.prefix.startsWith('/')) problems.push('prefix must not start with /');
    if (props.queue.fifo) problems.push('queue must be a standard queue (S3 cannot target FIFO)');
    assertValidProps('S3ToSqs', problems);

    this.bucket = s3.Bucket.fromBucketName(this, 'RegistryBucket', props.bucketName);
    if (props.useEventBridge) {
      this.bucket.enableEventBridgeNotification();
      this.rule = new events.Rule(this, 'RegistryEvents', {
        description: 'Registry bucket object events under the registry prefix',
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created', 'Object Deleted'],
          detail: {
            bucket: { name: [props.bucketName] },
            object: { key: [{ prefix: props.prefix }] },
          },
        },
        targets: [
          new targets.SqsQueue(props.queue, {
            deadLetterQueue: props.eventBridgeDeadLetterQueue,
            retryAttempts: 185,
          }),
        ],
      });
    } else {
      const dest = new s3n.SqsDestination(props.queue);
      const filter = { prefix: props.prefix };
      for (const type of [
        s3.EventType.OBJECT_CREATED,
        s3.EventType.OBJECT_REMOVED,
        s3.EventType.LIFECYCLE_EXPIRATION,
      ]) {
        this.bucket.addEventNotification(type, dest, filter);
      }
    }
    this.acknowledgeNotificationsHandler();
  }

  /**
   * CDK's singleton bucket-notifications handler (a custom resource that merges our entries into
   * the bucket's existing configuration). Its own policy is scoped to this bucket by CDK.
   */
  private acknowledgeNotificationsHandler(): void {
    const handler = Stack.of(this).node.tryFindChild(
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db834'
    );
    if (!handler) return;
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's bucket-notifications custom resource handler; basic logging role only.",
    });
  }
}
