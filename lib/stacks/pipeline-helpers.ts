/**
 * Helpers of the pipeline stack: the per-function environment (what lambdas/config.ts reads),
 * the registry read grant, and the text forms cdk-nag prints (for in-place acknowledgements).
 */
import { readFileSync } from 'node:fs';
import { type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sm from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { FUNCTION_TIMEOUT_SECONDS, PushGuardConfig } from '../config.ts';
import type { PipelineFunction } from '../constructs/pipeline-function.ts';
import type { StatefulResources } from './stateful-stack.ts';

export type FnName = keyof typeof FUNCTION_TIMEOUT_SECONDS;

/** A string with account/region tokens as cdk-nag prints it (`<AWS::AccountId>`...). */
export function nagText(stack: Stack, text: string): string {
  const pseudo = (v: string, name: string) => (Token.isUnresolved(v) ? `<AWS::${name}>` : v);
  return text
    .replace(stack.account, pseudo(stack.account, 'AccountId'))
    .replace(stack.region, pseudo(stack.region, 'Region'));
}

/** Logical id of a construct's CloudFormation resource, as cdk-nag prints it. */
export function logicalId(c: Construct): string {
  const cfn = c.node.defaultChild as CfnElement;
  return Stack.of(cfn).resolve(cfn.logicalId) as string;
}

export function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

/**
 * GetObject under the registry prefix and ListBucket on the bucket itself; nothing else, no Delete.
 * ListBucket carries no `s3:prefix` condition on purpose: S3 answers a HeadObject of a missing key
 * with 404 only to callers allowed to list the bucket (403 otherwise), and a HeadObject request has
 * no `s3:prefix` to match. Without it every "missing" would read as "unknown" and nothing would ever
 * be remediated. The resource is the bucket's own ARN, not a wildcard.
 */
export function grantRegistryRead(fn: lambda.IFunction, bucket: string, prefix: string): void {
  const stack = Stack.of(fn);
  const bucketArn = stack.formatArn({ service: 's3', region: '', account: '', resource: bucket });
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${bucketArn}/${prefix}*`] })
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucketArn] })
  );
}

/** PushGuard's version (package.json), written into every audit record. */
export const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/**
 * GetSecretValue on one secret: what the code calls (grantRead would add DescribeSecret, which
 * no code path uses; the artifact suite lists grants no call used).
 */
export function grantSecretValue(fn: lambda.IFunction, secret: sm.ISecret | undefined): void {
  if (!secret) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secret.secretArn],
    })
  );
}

/** SendMessage (and SendMessageBatch, same action) on one queue; no GetQueueUrl/Attributes. */
export function grantSend(fn: lambda.IFunction, queue: sqs.IQueue): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] })
  );
}

/**
 * Grants the function's code never calls, because AWS uses them with the function's role on its
 * behalf; the artifact suite (test/artifact) accepts exactly these as unused.
 */
export const GRANTS_USED_BY_AWS: readonly { action: string; reason: string }[] = [
  ...['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'].map((action) => ({
    action,
    reason: 'The SQS event source mapping polls and deletes with the function role.',
  })),
  ...['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'].map((action) => ({
    action,
    reason: 'Event source mapping and on-failure destination resolve the queue with the role.',
  })),
  {
    action: 'sqs:SendMessage',
    reason:
      'Lambda sends failed asynchronous invocations to the dead-letter queue / on-failure ' +
      'destination with the function role (only on the InvocationFailures queue).',
  },
  ...['kms:Decrypt', 'kms:GenerateDataKey*'].map((action) => ({
    action,
    reason: 'SNS encrypts what the function publishes with the topic key, as the publisher.',
  })),
];

export function environments(
  config: PushGuardConfig,
  stateful: StatefulResources,
  auditBucket: string
) {
  const redis = {
    REDIS_HOST: config.redis.host,
    REDIS_PORT: String(config.redis.port),
    REDIS_TLS: String(config.redis.tls),
    REDIS_STATE_DB: String(config.redis.db),
    ...(config.redis.authSecretArn ? { REDIS_AUTH_SECRET_ARN: config.redis.authSecretArn } : {}),
  };
  const registry = {
    REGISTRY_BUCKET: config.registryBucketName,
    REGISTRY_ROOT_DIRECTORY: config.rootDirectory,
  };
  const window = { WINDOW_SECONDS: String(Math.round(config.windowMinutes * 60)) };
  const findingsQueue = { FINDINGS_QUEUE_URL: stateful.findings.queue.queueUrl };
  // Each function gets only the integrations it talks to: Slack for notify, tickets for the two
  // remediators.
  const slack: Record<string, string> = {};
  if (config.slack) {
    slack.SLACK_WEBHOOK_SECRET_ARN = config.slack.webhookSecretArn;
    if (config.slack.channel) slack.SLACK_CHANNEL = config.slack.channel;
  }
  const integrations: Record<string, string> = {};
  if (config.jira) {
    integrations.JIRA_BASE_URL = config.jira.baseUrl;
    integrations.JIRA_PROJECT_KEY = config.jira.projectKey;
    integrations.JIRA_EMAIL = config.jira.email;
    integrations.JIRA_TOKEN_SECRET_ARN = config.jira.tokenSecretArn;
  }
  if (config.github) {
    integrations.GITHUB_REPOSITORY = config.github.repository;
    integrations.GITHUB_TOKEN_SECRET_ARN = config.github.tokenSecretArn;
  }
  const remediation = {
    ...redis,
    ...registry,
    REGISTRY_DB: String(config.registryDb),
    ...integrations,
    PUSHGUARD_VERSION: version,
    PUSHGUARD_MODE: config.mode,
    HARBOR_HOST: config.harborHost,
    ...(config.cacheLayerDb === undefined ? {} : { CACHE_LAYER_DB: String(config.cacheLayerDb) }),
    SETTLE_SECONDS: String(config.settleSeconds),
    CAP_PER_RUN: String(config.caps.perRun),
    CAP_PER_HOUR: String(config.caps.perHour),
    CAP_PER_FINDING: String(config.caps.perFinding),
    AUDIT_BUCKET: auditBucket,
    FINDINGS_TOPIC_ARN: stateful.notifications.topic.topicArn,
  };
  return {
    webhook: {
      ...redis,
      EVENTS_QUEUE_URL: stateful.events.queue.queueUrl,
      WEBHOOK_SECRET_ARNS: [config.webhook.secretArn, config.webhook.previousSecretArn]
        .filter(Boolean)
        .join(','),
    },
    's3-events': { ...redis, ...registry, ...window, ...findingsQueue },
    'window-check': { ...redis, ...registry, ...window, ...findingsQueue },
    remediate: remediation,
    sweep: remediation,
    notify: slack,
  } satisfies Record<FnName, Record<string, string>>;
}

/** Findings that are the point of the design, acknowledged in place with the reason. */
export function acknowledgeFunctionFindings(
  functions: Record<FnName, PipelineFunction>,
  prefix: string,
  bucket: string
): void {
  for (const pf of Object.values(functions)) {
    Validations.of(pf).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucket}/${prefix}*]`,
      reason: 'Read-only GetObject on the registry prefix: keys are content-addressed digests.',
    });
  }
}
