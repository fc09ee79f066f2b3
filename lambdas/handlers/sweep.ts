/**
 * `sweep` (EventBridge Scheduler, cron from config): the registry's Redis cache against S3, as
 * `pushguard audit --fix` does, with the same remediator as `remediate` (dry-run by default,
 * caps, audit record first). Logs every confirmed stale entry and a summary.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { type AuditDeps, type AuditSummary, runAudit } from '../app/audit.ts';
import { createRemediator, type RemediatorDeps } from '../app/remediate.ts';
import { count, logger, MetricName, metrics } from '../observability.ts';
import { composeSweep, lazyHandler } from './compose.ts';

export interface SweepDeps {
  audit: Omit<AuditDeps, 'fix' | 'onStale'>;
  remediator: RemediatorDeps;
}

export const makeHandler = (deps: SweepDeps) =>
  middy<unknown, Omit<AuditSummary, 'unknownSamples'>>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async () => {
      const remediator = createRemediator(deps.remediator);
      const summary = await runAudit({
        ...deps.audit,
        fix: {
          remediator,
          registryHost: deps.remediator.config.registryHost,
          cacheLayer: deps.remediator.config.cacheLayer,
        },
        onStale: (entry) => logger.warn('stale cache entry', { ...entry }),
      });
      count(MetricName.Findings, summary.stale);
      count(MetricName.KeysCleared, summary.fix?.keysCleared ?? 0);
      const { unknownSamples, ...rest } = summary;
      logger.info('sweep done', { ...rest, unknownSamples: unknownSamples.slice(0, 5) });
      return rest;
    });

export const handler = lazyHandler(async () => makeHandler(await composeSweep()));
