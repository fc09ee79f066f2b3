/** A connected client on one DB of the configured Redis, with AUTH from Secrets Manager. */
import type { Redis } from 'ioredis';
import { connectRedis } from '../../adapters/redis-client.ts';
import { type ConfigFor, redisUrl } from '../../config.ts';
import { secrets } from './secrets.ts';

export async function redisFor(redis: ConfigFor<'webhook'>['redis'], db: number): Promise<Redis> {
  const url = new URL(redisUrl(redis, db));
  // ACL user of the function's role (lambdas/redis-acl.ts), its password from its own secret
  if (redis.username) url.username = redis.username;
  if (redis.authSecretArn) url.password = await secrets().get(redis.authSecretArn);
  return connectRedis(url.toString(), { connectionName: 'pushguard-lambda' });
}
