/**
 * Errors that name the cause at a function's cold start: Redis without or with a wrong password
 * (a redis-server with requirepass), TLS spoken to a plain server, plain TCP to a server that
 * hangs up (as a TLS-only endpoint does), and a secret that does not exist (the Secrets Manager
 * stand-in answers ResourceNotFoundException as documented).
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, RedisConnectError } from '../../lambdas/adapters/redis-client.ts';
import { SecretsManagerSecrets } from '../../lambdas/adapters/secrets.ts';
import { ConfigError } from '../../lambdas/domain/errors.ts';
import { type SecretsStandIn, startSecretsManager } from '../artifact/support/secrets-manager.ts';
import { type RunningRedis, startRedisServer } from '../support/redis-server.ts';

let redis: RunningRedis;
let hangUp: Server;
let sm: SecretsStandIn;

beforeAll(async () => {
  redis = await startRedisServer(['--requirepass', 's3cret']);
  hangUp = createServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((r) => hangUp.listen(0, '127.0.0.1', r));
  sm = await startSecretsManager(new Map());
});
afterAll(async () => {
  await redis?.stop();
  await new Promise((r) => hangUp?.close(r));
  await sm?.stop();
});

const fail = (url: string) =>
  connectRedis(url, { connectTimeoutMs: 2000 }).catch((e: unknown) => e);

describe('Redis connect errors name the cause', () => {
  it('no password where one is required: NOAUTH, set the AUTH secret', async () => {
    const err = await fail(`redis://127.0.0.1:${redis.port}/3`);
    expect(err).toBeInstanceOf(RedisConnectError);
    expect((err as Error).message).toMatch(/db 3 requires a password \(NOAUTH\)/);
  });

  it('a wrong password: WRONGPASS, the AUTH secret does not match', async () => {
    const err = await fail(`redis://:nope@127.0.0.1:${redis.port}/3`);
    expect((err as Error).message).toMatch(/refused the password \(WRONGPASS\)/);
  });

  it('TLS to a plain server: it may not speak TLS', async () => {
    const err = await fail(`rediss://:s3cret@127.0.0.1:${redis.port}/3`);
    expect((err as Error).message).toMatch(/broke off the TLS handshake: it may not speak TLS/);
  });

  it('plain TCP to a server that hangs up: it may expect TLS', async () => {
    const port = (hangUp.address() as AddressInfo).port;
    const err = await fail(`redis://127.0.0.1:${port}/0`);
    expect((err as Error).message).toMatch(
      /closed the connection before answering: it may expect TLS/
    );
  });

  it('the right password connects', async () => {
    const client = await connectRedis(`redis://:s3cret@127.0.0.1:${redis.port}/3`);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });
});

describe('Secrets errors name the cause', () => {
  it('a secret that does not exist: not found, check the ARN and its region', async () => {
    const client = new SecretsManagerClient({
      endpoint: sm.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pushguard/gone-AbCdEf';
    const err = await new SecretsManagerSecrets(client).get(arn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /not found \(ResourceNotFoundException\)[\s\S]*eu-west-1/
    );
    client.destroy();
  });
});
