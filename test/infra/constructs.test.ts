/** Each construct validates its props and throws ONE InvalidPropsError listing every problem. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { FunctionNetwork, PipelineFunction } from '../../lib/constructs/pipeline-function.ts';
import { InvalidPropsError } from '../../lib/constructs/props.ts';
import { QueueWithDlq } from '../../lib/constructs/queue-with-dlq.ts';
import { S3ToSqs } from '../../lib/constructs/s3-to-sqs.ts';
import { SqsToLambda } from '../../lib/constructs/sqs-to-lambda.ts';
import { WebhookIngress } from '../../lib/constructs/webhook-ingress.ts';
import { thrown } from '../support/thrown.ts';

const stack = () => new Stack(new App(), 'T');
const fn = (s: Stack, timeout = 60) =>
  new lambda.Function(s, 'F', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
    timeout: Duration.seconds(timeout),
  });

function problems(build: () => unknown): readonly string[] {
  const err = thrown(build);
  expect(err).toBeInstanceOf(InvalidPropsError);
  return (err as InvalidPropsError).problems;
}

describe('QueueWithDlq', () => {
  it('defaults: SSE, TLS only, redrive after 5, 256 KB', () => {
    const s = stack();
    new QueueWithDlq(s, 'Q');
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::SQS::Queue', {
      MaximumMessageSize: 262144,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        maxReceiveCount: 5,
        deadLetterTargetArn: Match.anyValue(),
      },
    });
    t.resourceCountIs('AWS::SQS::QueuePolicy', 2);
  });

  it('lists every bad prop', () => {
    const p = problems(
      () =>
        new QueueWithDlq(stack(), 'Q', {
          maxReceiveCount: 3,
          maxMessageSizeBytes: 1024,
          retentionPeriod: Duration.days(14),
          dlqRetentionPeriod: Duration.days(7),
          queueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED },
        })
    );
    expect(p).toHaveLength(4);
    expect(p.join('\n')).toMatch(
      /maxReceiveCount[\s\S]*maxMessageSizeBytes[\s\S]*dlqRetention[\s\S]*UNENCRYPTED/
    );
  });
});

describe('SqsToLambda', () => {
  it('refuses a visibility timeout below 6× the function timeout, with the other problems', () => {
    const s = stack();
    const q = new QueueWithDlq(s, 'Q', { visibilityTimeout: Duration.seconds(300) });
    const p = problems(
      () =>
        new SqsToLambda(s, 'E', {
          queue: q,
          function: fn(s),
          functionTimeout: Duration.seconds(60),
          batchSize: 100,
          maxConcurrency: 1,
        })
    );
    expect(p).toEqual([
      'queue visibility timeout (300 s) must be at least 6× the function timeout (60 s)',
      'batchSize above 10 needs a maxBatchingWindow of at least 1 s',
      'maxConcurrency must be 2..1000, got 1',
    ]);
  });

  it('wires ReportBatchItemFailures and MaximumConcurrency when valid', () => {
    const s = stack();
    const q = new QueueWithDlq(s, 'Q', { visibilityTimeout: Duration.seconds(360) });
    new SqsToLambda(s, 'E', { queue: q, function: fn(s), functionTimeout: Duration.seconds(60) });
    Template.fromStack(s).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });
});

describe('other constructs', () => {
  it('S3ToSqs refuses a prefix outside the registry and a FIFO queue', () => {
    const s = stack();
    const fifo = new sqs.Queue(s, 'F', { fifo: true });
    expect(
      problems(() => new S3ToSqs(s, 'X', { bucketName: 'b-1', prefix: '/x/', queue: fifo }))
    ).toHaveLength(3);
  });

  it('FunctionNetwork needs subnets and a way to reach Redis', () => {
    expect(
      problems(
        () => new FunctionNetwork(stack(), 'N', { vpcId: 'vpc-1', subnetIds: [], redisPort: 0 })
      )
    ).toHaveLength(3);
  });

  it('WebhookIngress refuses limits WAF or API Gateway cannot apply', () => {
    const s = stack();
    expect(
      problems(
        () =>
          new WebhookIngress(s, 'W', {
            function: fn(s),
            rateLimit: 0,
            burstLimit: 0.5,
            wafRateLimit: 5,
            maxBodyBytes: 1024 * 1024,
          })
      )
    ).toHaveLength(4);
  });
});

describe('PipelineFunction bundling', () => {
  it('bundles a handler offline with the local esbuild into an ESM module with a source map', async () => {
    const s = stack();
    const network = new FunctionNetwork(s, 'N', {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0'],
      redisPort: 6379,
      redisCidr: '10.0.0.0/16',
    });
    const pf = new PipelineFunction(s, 'Webhook', {
      entry: fileURLToPath(new URL('../../lambdas/handlers/webhook.ts', import.meta.url)),
      description: 'bundling test',
      network,
    });
    const assembly = App.of(s)!.node.root as App;
    const dir = assembly.synth().directory;
    const code = Template.fromStack(s).toJSON().Resources[
      s.getLogicalId(pf.function.node.defaultChild as CfnElement)
    ].Properties.Code as { S3Key: string };
    const hash = code.S3Key.replace(/\.zip$/, '');
    const bundle = readFileSync(join(dir, `asset.${hash}`, 'index.mjs'), 'utf8');
    expect(bundle).toMatch(/export\s*\{[^}]*handler/);
    expect(bundle).toContain('createRequire');
    expect(bundle).not.toContain('@aws-sdk/client-sqs/dist-cjs'); // the SDK stays external
    expect(existsSync(join(dir, `asset.${hash}`, 'index.mjs.map'))).toBe(true);
  });
});
