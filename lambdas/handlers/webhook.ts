/**
 * `webhook`: API Gateway (REST, Lambda proxy) → acceptWebhook. Answers at once; no correlation
 * happens here. Logs the outcome, never the body or the Authorization header.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { acceptWebhook, type WebhookDeps } from '../app/webhook-ingress.ts';
import { EmfCounters } from '../emf.ts';
import { logger } from '../logger.ts';
import { MetricName } from '../metric-names.ts';
import { lazyHandler } from './compose/lazy-handler.ts';
import { composeWebhook } from './compose/webhook.ts';

const counters = new EmfCounters();
const count = (name: Parameters<EmfCounters['add']>[0]) => counters.add(name);

export const makeHandler = (deps: WebhookDeps) =>
  middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(counters.middleware())
    .handler(async (event) => {
      const res = await acceptWebhook(
        { headers: event.headers, body: event.body, isBase64Encoded: event.isBase64Encoded },
        {
          ...deps,
          onOutcome: (outcome) => {
            logger.info('webhook', { outcome });
            if (outcome === 'enqueued') count(MetricName.WebhooksAccepted);
            else if (outcome === 'duplicate') count(MetricName.DuplicateEventsSkipped);
            else if (outcome !== 'ignored') count(MetricName.WebhooksRejected);
          },
        }
      );
      return { ...res, headers: { 'content-type': 'application/json' } };
    });

export const handler = lazyHandler(async () => makeHandler(await composeWebhook()));
