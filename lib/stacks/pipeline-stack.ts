/**
 * The stateless part, safe to destroy and recreate: the six functions, their triggers (SQS event
 * sources, the webhook API, the window-check rule, the sweep schedule, the Slack subscription),
 * least-privilege grants, alarms and the dashboard.
 */
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RedisRole } from '../../lambdas/redis-acl.ts';
import { FUNCTION_TIMEOUT_SECONDS, type PushGuardConfig, registryPrefix } from '../config.ts';
import { Monitoring } from '../constructs/monitoring.ts';
import { FunctionNetwork, PipelineFunction } from '../constructs/pipeline-function.ts';
import { RedisAclUsers } from '../constructs/redis-acl-users.ts';
import { PushGuardSecrets } from '../constructs/secrets.ts';
import { SqsToLambda } from '../constructs/sqs-to-lambda.ts';
import { WebhookIngress } from '../constructs/webhook-ingress.ts';
import {
  acknowledgeFunctionFindings,
  environments,
  type FnName,
  grantRegistryRead,
  grantSecretValue,
  grantSend,
  logicalId,
  nagText,
  pascal,
} from './pipeline-helpers.ts';
import { grantRestore } from './restore-grants.ts';
import { auditBucketName, type StatefulResources } from './stateful-stack.ts';

export interface PushGuardPipelineProps {
  readonly config: PushGuardConfig;
  /** Queues, topics and the audit bucket. */
  readonly stateful: StatefulResources;
  /**
   * The stateful stack's `namePrefix`.
   * @default 'pushguard'
   */
  readonly namePrefix?: string;
  /**
   * Folder of the handler modules.
   * @default lambdas/handlers of this repository
   */
  readonly handlersDir?: string;
}

export interface PipelineStackProps extends StackProps, PushGuardPipelineProps {}

const DESCRIPTIONS: Record<FnName, string> = {
  webhook: 'Harbor webhook ingress: authenticate, dedupe, enqueue',
  's3-events': 'Correlates S3 events and webhooks in Redis windows',
  'window-check': 'Closes due correlation windows and emits findings',
  remediate: 'Re-verifies findings and clears stale registry cache keys (dry-run by default)',
  sweep: 'Scheduled audit: registry Redis cache against S3, remediated like findings',
  notify: 'Forwards findings from SNS to Slack',
};

/**
 * Functions whose bundle carries the AWS SDK it was tested with (what they rely on, such as S3's
 * conditional PutObject, is pinned); webhook and notify use the runtime's SDK for a small bundle
 * and a fast cold start (SendMessage and GetSecretValue, unchanged for years). See README "Deploy".
 */
const BUNDLED_SDK = new Set<FnName>(['s3-events', 'window-check', 'remediate', 'sweep']);

/** The Redis ACL role each function connects as (notify has no Redis). */
const REDIS_ROLE_OF: Record<FnName, RedisRole | undefined> = {
  webhook: 'webhook',
  's3-events': 'ingest',
  'window-check': 'window-check',
  remediate: 'remediate',
  sweep: 'sweep',
  notify: undefined,
};

/** The stateless half as a construct, for any stack (PipelineStack, or PushGuard in a user's). */
export class PushGuardPipeline extends Construct {
  public readonly functions: Record<FnName, PipelineFunction>;
  public readonly ingress: WebhookIngress;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PushGuardPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config, stateful } = props;
    const dir =
      props.handlersDir ?? fileURLToPath(new URL('../../lambdas/handlers/', import.meta.url));
    const network = new FunctionNetwork(this, 'Network', {
      vpcId: config.vpcId,
      subnetIds: config.subnetIds,
      redisPort: config.redis.port,
      redisCidr: config.redisCidr,
      redisSecurityGroupId: config.redisSecurityGroupId,
      securityGroupId: config.securityGroupId,
      egress: config.egress.mode,
      routeTableIds: config.egress.routeTableIds,
    });
    const secrets = new PushGuardSecrets(this, 'Secrets', {
      webhookSecretArn: config.webhook.secretArn,
      previousWebhookSecretArn: config.webhook.previousSecretArn,
      redisAuthSecretArn: config.redis.authSecretArn,
      slackWebhookSecretArn: config.slack?.webhookSecretArn,
      jiraTokenSecretArn: config.jira?.tokenSecretArn,
      githubTokenSecretArn: config.github?.tokenSecretArn,
    });
    // Failed asynchronous invocations (rule, schedule, async retries). It lives here, not in the
    // stateful stack: an EventBridge rule's DLQ policy names the rule, which would make the
    // stateful stack depend on this one.
    const failures = new sqs.Queue(this, 'InvocationFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const id of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      Validations.of(failures).acknowledge({
        id,
        reason: 'This queue IS a dead-letter queue (rule, schedule and async invocation failures).',
      });
    }
    const auditBucket = auditBucketName(stack, props.namePrefix);
    const auditObjects = stack.formatArn({
      service: 's3',
      region: '',
      account: '',
      resource: auditBucket,
      resourceName: '*',
    });
    const env = environments(config, stateful, auditBucket);
    const acl = config.redis.aclUsers ? new RedisAclUsers(this, 'RedisAclUsers') : undefined;
    const role = (name: FnName) => REDIS_ROLE_OF[name];
    const make = (name: FnName) =>
      new PipelineFunction(this, `${pascal(name)}Fn`, {
        entry: `${dir}/${name}.ts`,
        description: DESCRIPTIONS[name],
        // notify talks to SNS, Secrets Manager and Slack only: outside the VPC it needs no NAT.
        network: name === 'notify' ? undefined : network,
        timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS[name]),
        environment: {
          ...env[name],
          ...(acl && role(name) ? acl.environmentFor(role(name)!) : {}),
        },
        logRetention: config.logRetentionDays,
        reservedConcurrentExecutions:
          name === 'webhook' ? config.webhook.reservedConcurrency : undefined,
        deadLetterQueue: failures,
        bundleAwsSdk: BUNDLED_SDK.has(name),
      });
    this.functions = {
      webhook: make('webhook'),
      's3-events': make('s3-events'),
      'window-check': make('window-check'),
      remediate: make('remediate'),
      sweep: make('sweep'),
      notify: make('notify'),
    };
    for (const [name, fn] of Object.entries(this.functions) as [FnName, PipelineFunction][]) {
      if (acl && role(name)) acl.grantRead(fn.function, role(name)!);
    }
    const fn = (name: FnName) => this.functions[name].function;

    // Triggers
    new SqsToLambda(this, 'EventsToCorrelate', {
      queue: stateful.events,
      function: fn('s3-events'),
      functionTimeout: this.functions['s3-events'].timeout,
      maxConcurrency: 2,
    });
    new SqsToLambda(this, 'FindingsToRemediate', {
      queue: stateful.findings,
      function: fn('remediate'),
      functionTimeout: this.functions.remediate.timeout,
      batchSize: 5,
      maxConcurrency: 2,
    });
    this.ingress = new WebhookIngress(this, 'WebhookApi', {
      function: fn('webhook'),
      rateLimit: config.webhook.rateLimit,
      burstLimit: config.webhook.burstLimit,
      enableWaf: config.enableWaf,
      wafRateLimit: config.webhook.wafRateLimit,
      accessLogs: config.apiAccessLogs,
      accessLogRetention: config.logRetentionDays,
    });
    new events.Rule(this, 'WindowCheckEveryMinute', {
      description: 'Closes due correlation windows',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new eventTargets.LambdaFunction(fn('window-check'), {
          deadLetterQueue: failures,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(2),
        }),
      ],
    });
    const schedulerRole = new iam.Role(this, 'SweepSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    new scheduler.Schedule(this, 'Sweep', {
      description: 'Redis registry cache against S3 (pushguard audit)',
      schedule: scheduler.ScheduleExpression.expression(config.sweepCron),
      target: new schedulerTargets.LambdaInvoke(fn('sweep'), {
        role: schedulerRole,
        deadLetterQueue: failures,
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    });
    stateful.notifications.addSlackNotifier(fn('notify'), stateful.asyncFailures);
    for (const name of ['window-check', 'sweep', 'notify'] as const) {
      fn(name).configureAsyncInvoke({
        onFailure: new destinations.SqsDestination(failures),
        retryAttempts: 2,
      });
    }

    // Grants (least privilege)
    const prefix = registryPrefix(config);
    for (const name of ['s3-events', 'window-check', 'remediate', 'sweep'] as const) {
      grantRegistryRead(fn(name), config.registryBucketName, prefix);
    }
    for (const name of ['webhook', 's3-events', 'window-check', 'remediate', 'sweep'] as const) {
      grantSecretValue(fn(name), secrets.redisAuth);
    }
    for (const s of secrets.webhook) grantSecretValue(fn('webhook'), s);
    grantSend(fn('webhook'), stateful.events.queue);
    for (const name of ['s3-events', 'window-check'] as const) {
      grantSend(fn(name), stateful.findings.queue);
    }
    // The sweep remediates what it finds itself (as `pushguard audit --fix`), so it gets the
    // remediator's grants: audit records, the findings topic, the ticket tokens.
    for (const name of ['remediate', 'sweep'] as const) {
      stateful.notifications.topic.grantPublish(fn(name));
      fn(name).addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [auditObjects],
        })
      );
      grantSecretValue(fn(name), secrets.jiraToken);
      grantSecretValue(fn(name), secrets.githubToken);
      Validations.of(this.functions[name]).acknowledge(
        {
          id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
          reason: 'Publishing to the KMS-encrypted findings topic; scoped to that one key.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${nagText(stack, auditBucket)}/*]`,
          reason:
            'PutObject only (no read, no delete) of new audit records; Object Lock keeps them.',
        }
      );
    }
    grantRestore(this, this.functions.remediate, config, prefix);
    grantSecretValue(fn('notify'), secrets.slackWebhook);
    acknowledgeFunctionFindings(this.functions, prefix, config.registryBucketName);
    for (const name of ['s3-events', 'remediate'] as const) {
      Validations.of(fn(name)).acknowledge({
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'SQS event sources cannot have an on-failure destination; the queue redrive policy ' +
          '(DLQ after 5 receives) plays that role and is alarmed.',
      });
    }
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(fn('sweep'))}.Arn>:*]`,
      reason: 'The scheduler may invoke the sweep function and its versions; nothing else.',
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      queues: { Events: stateful.events, Findings: stateful.findings },
      functions: Object.fromEntries(
        Object.entries(this.functions).map(([k, v]) => [pascal(k), v.function])
      ),
      alarmTopic: stateful.notifications.alarmTopic,
      deadLetterQueues: { Delivery: stateful.asyncFailures, Invocation: failures },
    });
    new CfnOutput(this, 'WebhookUrl', {
      value: this.ingress.url,
      description: "Harbor webhook policy 'Endpoint URL'",
    });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
  }
}

/** The repository's pipeline stack: PushGuardPipeline and nothing else. */
export class PipelineStack extends Stack {
  public readonly functions: Record<FnName, PipelineFunction>;
  public readonly ingress: WebhookIngress;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    // Id 'Default' adds nothing to logical ids: deployed stacks keep every resource they have.
    const parts = new PushGuardPipeline(this, 'Default', props);
    this.functions = parts.functions;
    this.ingress = parts.ingress;
    this.monitoring = parts.monitoring;
  }
}
