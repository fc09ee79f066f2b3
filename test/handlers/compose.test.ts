/**
 * The Lambda composition root end to end: the exported `handler` builds its graph from the
 * environment the CDK stack sets (lambdas/config.ts), reads the webhook secrets from a local
 * Secrets Manager stand-in (127.0.0.1, AWS JSON 1.1 protocol as documented), dedupes on the real
 * redis-server and enqueues to fauxqs, both reached through AWS_ENDPOINT_URL_*.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import { apiEvent, createQueue, drainQueue, fixture, lambdaContext } from './support.ts';

const ARN = (n: string) =>
  `arn:aws:secretsmanager:us-east-1:123456789012:secret:pushguard/${n}-AbCdEf`;
const SECRETS: Record<string, string> = {
  [ARN('webhook-current')]: 'Bearer current-1',
  [ARN('webhook-previous')]: JSON.stringify({ value: 'Bearer previous-0' }),
};

let aws: TestAws;
let sm: Server;
const calls: { target: string; secretId: string }[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  aws = await startFauxqs();
  sm = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      calls.push({ target, secretId: SecretId });
      const value = SECRETS[SecretId];
      const ok =
        req.method === 'POST' &&
        target === 'secretsmanager.GetSecretValue' &&
        String(req.headers['content-type']).startsWith('application/x-amz-json-1.1') &&
        String(req.headers.authorization).startsWith('AWS4-HMAC-SHA256');
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (!ok || value === undefined) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
        return;
      }
      res.end(JSON.stringify({ ARN: SecretId, Name: 'n', SecretString: value, VersionId: 'v1' }));
    });
  });
  await new Promise<void>((r) => sm.listen(0, '127.0.0.1', r));
  const [db] = await allocateDbs(1);
  const queueUrl = await createQueue(aws.sqs, 'compose-events');
  const redis = new URL(redisUrl());
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_SQS: aws.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(sm.address() as AddressInfo).port}`,
    REDIS_HOST: redis.hostname,
    REDIS_PORT: redis.port,
    REDIS_TLS: 'false',
    REDIS_STATE_DB: String(db),
    EVENTS_QUEUE_URL: queueUrl,
    WEBHOOK_SECRET_ARNS: `${ARN('webhook-current')},${ARN('webhook-previous')}`,
  });
});

afterAll(async () => {
  process.env = saved;
  await new Promise((r) => sm?.close(r));
  await aws?.stop();
});

describe('composition root: webhook', () => {
  it('builds the graph once from the environment and serves both secrets', async () => {
    const { handler } = await import('../../lambdas/handlers/webhook.ts');
    const push = fixture('harbor-webhooks/harbor_webhook_push_artifact_default.json');
    const later = JSON.stringify({ ...JSON.parse(push), occur_at: 1720013000 });
    const a = await handler(
      apiEvent(push, { Authorization: 'Bearer current-1' }),
      lambdaContext('w')
    );
    const b = await handler(
      apiEvent(later, { Authorization: 'Bearer previous-0' }),
      lambdaContext('w')
    );
    const c = await handler(apiEvent(push, { Authorization: 'Bearer nope' }), lambdaContext('w'));
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([202, 202, 401]);
    expect(await drainQueue(aws.sqs, process.env.EVENTS_QUEUE_URL!)).toHaveLength(2);
    // Each secret read once (cached), with the documented protocol.
    expect(calls.map((x) => x.secretId).sort()).toEqual(
      [ARN('webhook-current'), ARN('webhook-previous')].sort()
    );
  });

  it('fails the cold start with one error listing every missing variable', async () => {
    const { composeIngest } = await import('../../lambdas/handlers/compose/correlation.ts');
    await expect(composeIngest({ REDIS_HOST: 'h' })).rejects.toThrow(
      /REDIS_STATE_DB[\s\S]*REGISTRY_BUCKET[\s\S]*WINDOW_SECONDS[\s\S]*FINDINGS_QUEUE_URL/
    );
  });
});
