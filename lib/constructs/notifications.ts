/**
 * Where people hear from PushGuard: a findings topic (the remediator publishes there, the notify
 * function forwards to Slack) and an alarm topic (CloudWatch alarms, optional email).
 *
 * Default settings: both topics encrypted with one customer-managed KMS key (rotation on) whose
 * policy lets CloudWatch alarms publish; SSL-only topic policies; the Slack subscription has a
 * dead-letter queue so an undeliverable notification is kept, not lost.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { assertValidProps } from './props.ts';

export interface NotificationsProps {
  /**
   * Email address subscribed to the alarm topic (confirm the subscription mail).
   * @default - no email subscription
   */
  readonly alarmEmail?: string;
  /**
   * KMS key for the topics.
   * @default - a new key with rotation
   */
  readonly key?: kms.IKey;
  /**
   * Where undeliverable alarm emails go.
   * @default - none (then no email subscription is allowed)
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

export class Notifications extends Construct {
  public readonly key: kms.IKey;
  /** Findings and remediation outcomes (JSON Notification messages). */
  public readonly topic: sns.Topic;
  /** CloudWatch alarm actions. */
  public readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps = {}) {
    super(scope, id);
    const problems: string[] = [];
    if (props.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)) {
      problems.push(`alarmEmail is not an email address: ${props.alarmEmail}`);
    }
    if (props.alarmEmail !== undefined && !props.deadLetterQueue) {
      problems.push('alarmEmail needs a deadLetterQueue for undeliverable messages');
    }
    assertValidProps('Notifications', problems);

    if (props.key) {
      this.key = props.key;
    } else {
      const key = new kms.Key(this, 'Key', {
        description: 'PushGuard SNS topics',
        enableKeyRotation: true,
        pendingWindow: Duration.days(30),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarms',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        })
      );
      this.key = key;
    }
    this.topic = new sns.Topic(this, 'Findings', {
      displayName: 'PushGuard findings',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      displayName: 'PushGuard alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(
        new subs.EmailSubscription(props.alarmEmail, { deadLetterQueue: props.deadLetterQueue })
      );
    }
  }

  /** Subscribes the notify (Slack) function; failed deliveries land in `deadLetterQueue`. */
  addSlackNotifier(fn: lambda.IFunction, deadLetterQueue: sqs.IQueue): void {
    this.topic.addSubscription(new subs.LambdaSubscription(fn, { deadLetterQueue }));
  }
}
