/**
 * What the shipped functions run against here: a password-protected redis-server, fauxqs (S3,
 * SQS, SNS) behind an S3 front that honours If-None-Match, the Secrets Manager stand-in, and the
 * fake Slack/Jira. Every queue and topic of the stateful stack gets a local twin named by its
 * logical id, and each topic a capture queue. Functions are loaded from their bundles in cdk.out
 * with the environment their template gives them: references resolved to the local twins, the
 * Redis host and the Jira URL pointed here, AWS_ENDPOINT_URL_* set. Each AWS call is recorded.
 */
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { AWS_CALL_OBSERVER, type AwsCall } from '../../../lambdas/handlers/compose/aws-client.ts';
import type { FnName } from '../../../lib/stacks/pipeline-helpers.ts';
import { createQueue } from '../../handlers/support.ts';
import { type FakeSaas, startFakeSaas } from '../../support/fake-saas.ts';
import { startFauxqs, type TestAws } from '../../support/fauxqs.ts';
import { type RunningRedis, startRedisServer } from '../../support/redis-server.ts';
import { type ConditionalS3, startConditionalS3 } from './conditional-s3.ts';
import { makeResolver } from './resolve.ts';
import { type SecretsStandIn, startSecretsManager } from './secrets-manager.ts';
import { type Artifact, REGION, secretArn } from './synth.ts';

export const REDIS_PASSWORD = 'artifact-redis-pass';
export const WEBHOOK_SECRET = 'Bearer artifact-webhook';
const JIRA = { email: 'pushguard@example.com', apiToken: 'artifact-jira-token', projects: ['OPS'] };

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface Rig {
  art: Artifact;
  redis: RunningRedis;
  aws: TestAws;
  s3: ConditionalS3;
  sm: SecretsStandIn;
  saas: FakeSaas;
  /** Local queue URL per stateful queue logical id. */
  queues: Map<string, string>;
  /** Capture queue URL per stateful topic logical id. */
  captures: Map<string, string>;
  auditBucket: string;
  calls: Map<FnName, AwsCall[]>;
  /** The environment `name` runs with. */
  envOf(name: FnName): Record<string, string>;
  /** Invokes the shipped bundle (cold on the first call, or when `cold`). */
  invoke(name: FnName, event: unknown, opts?: { cold?: boolean }): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startRig(art: Artifact): Promise<Rig> {
  const redis = await startRedisServer(['--requirepass', REDIS_PASSWORD]);
  const aws = await startFauxqs();
  const s3 = await startConditionalS3(aws.endpoint);
  const saas = await startFakeSaas({ jira: JIRA, slackHooks: ['default'] });
  const sm = await startSecretsManager(
    new Map([
      [secretArn('redis-auth'), JSON.stringify({ password: REDIS_PASSWORD })],
      [secretArn('webhook-current'), WEBHOOK_SECRET],
      [secretArn('slack-webhook'), saas.slackHookUrl('default')],
      [secretArn('jira-token'), JIRA.apiToken],
    ])
  );
  const queues = new Map<string, string>();
  const topics = new Map<string, string>();
  const captures = new Map<string, string>();
  for (const [id, r] of Object.entries(art.stateful.Resources)) {
    if (r.Type === 'AWS::SQS::Queue') queues.set(id, await createQueue(aws.sqs, id));
    if (r.Type === 'AWS::SNS::Topic') {
      const topic = await aws.sns.send(new CreateTopicCommand({ Name: id }));
      topics.set(id, topic.TopicArn!);
      const capture = await createQueue(aws.sqs, `${id}-capture`);
      const attrs = await aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: capture, AttributeNames: ['QueueArn'] })
      );
      await aws.sns.send(
        new SubscribeCommand({
          TopicArn: topic.TopicArn,
          Protocol: 'sqs',
          Endpoint: attrs.Attributes?.QueueArn,
        })
      );
      captures.set(id, capture);
    }
  }
  const resolver = makeResolver(art, {
    queueUrl: (id) => {
      const url = queues.get(id);
      if (!url) throw new Error(`no local queue for ${id}`);
      return url;
    },
    topicArn: (id) => {
      const arn = topics.get(id);
      if (!arn) throw new Error(`no local topic for ${id}`);
      return arn;
    },
  });
  const auditBucket = String(resolver.resolve(art.functions.remediate.environment.AUDIT_BUCKET));
  for (const b of ['harbor', auditBucket]) {
    await aws.s3.send(new CreateBucketCommand({ Bucket: b }));
  }

  const envOf = (name: FnName): Record<string, string> => {
    const fromTemplate = Object.fromEntries(
      Object.entries(art.functions[name].environment).map(([k, v]) => [
        k,
        String(resolver.resolve(v)),
      ])
    );
    const local: Record<string, string> = {};
    if ('REDIS_HOST' in fromTemplate) {
      local.REDIS_HOST = '127.0.0.1';
      local.REDIS_PORT = String(redis.port);
    }
    if ('JIRA_BASE_URL' in fromTemplate) local.JIRA_BASE_URL = saas.url;
    return {
      ...fromTemplate,
      ...local,
      // What the Lambda runtime sets, and where the SDK finds the local endpoints.
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'ASIAARTIFACTTEST',
      AWS_SECRET_ACCESS_KEY: 'artifact-secret',
      AWS_SESSION_TOKEN: 'artifact-session',
      AWS_LAMBDA_FUNCTION_NAME: `PushGuard-${name}`,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SQS: aws.endpoint,
      AWS_ENDPOINT_URL_SNS: aws.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
    };
  };

  const calls = new Map<FnName, AwsCall[]>();
  const loaded = new Map<FnName, Handler>();
  let current: FnName | undefined;
  let colds = 0;
  (globalThis as Record<symbol, unknown>)[AWS_CALL_OBSERVER] = (c: AwsCall) => {
    if (!current) throw new Error(`AWS call outside an invocation: ${c.client}.${c.command}`);
    calls.set(current, [...(calls.get(current) ?? []), c]);
  };
  const saved = { ...process.env };
  const invoke = async (name: FnName, event: unknown, opts: { cold?: boolean } = {}) => {
    process.env = { ...saved, ...envOf(name) };
    current = name;
    try {
      let handler = opts.cold ? undefined : loaded.get(name);
      if (!handler) {
        const url = `${pathToFileURL(art.functions[name].bundle).href}?cold=${++colds}`;
        handler = ((await import(url)) as { handler: Handler }).handler;
        loaded.set(name, handler);
      }
      return await handler(event, lambdaContext(name));
    } finally {
      current = undefined;
      process.env = saved;
    }
  };
  return {
    art,
    redis,
    aws,
    s3,
    sm,
    saas,
    queues,
    captures,
    auditBucket,
    calls,
    envOf,
    invoke,
    stop: async () => {
      delete (globalThis as Record<symbol, unknown>)[AWS_CALL_OBSERVER];
      await sm.stop();
      await saas.stop();
      await s3.stop();
      await aws.stop();
      await redis.stop();
    },
  };
}

function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `PushGuard-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:123456789012:function:PushGuard-${name}`,
    memoryLimitInMB: '512',
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/PushGuard-${name}`,
    logStreamName: 'artifact',
    getRemainingTimeInMillis: () => 60_000,
  } as unknown as Context;
}
