/** Composition root of `webhook`: secrets, the events queue and the dedupe DB. Nothing else. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { RedisDedupe } from '../../adapters/redis-dedupe.ts';
import { SqsEventQueue } from '../../adapters/sqs-event-queue.ts';
import type { WebhookDeps } from '../../app/webhook-ingress.ts';
import { type Env, loadConfig } from '../../config.ts';
import { observed } from './aws-client.ts';
import { redisFor } from './redis.ts';
import { secrets } from './secrets.ts';

export async function composeWebhook(env: Env = process.env): Promise<WebhookDeps> {
  const config = loadConfig('webhook', env);
  const redis = await redisFor(config.redis, config.redis.stateDb);
  return {
    secrets: () => secrets().getAll(config.webhook.secretArns),
    queue: new SqsEventQueue(observed(new SQSClient({})), config.eventsQueue),
    dedupe: new RedisDedupe(redis),
  };
}
