/**
 * The middy stack every Powertools-metrics handler starts from (webhook keeps its own, lighter one).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { logger, metrics } from '../../observability.ts';

/** middy with a fresh logger context per invocation and metrics flushed at its end. */
export const observedHandler = <TEvent, TResult>() =>
  middy<TEvent, TResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
