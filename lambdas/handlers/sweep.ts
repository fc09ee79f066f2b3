/**
 * `sweep` (EventBridge Scheduler, cron from config): lambdas/app/sweep.ts. Logs every confirmed
 * stale entry and a summary; fix errors are counted (SweepFixErrors, alarmed) and fail the
 * invocation, so the schedule's retries and the failure queue see them.
 */
import { runSweep, type SweepDeps, type SweepSummary } from '../app/sweep.ts';
import { count, logger, MetricName } from '../observability.ts';
import { lazyHandler } from './compose/lazy-handler.ts';
import { observedHandler } from './compose/observed.ts';
import { composeSweep } from './compose/sweep.ts';

/** Some fixes failed (audit write, Redis...): the invocation fails after the summary is logged. */
export class SweepFixError extends Error {}

export const makeHandler = (deps: SweepDeps) =>
  observedHandler<unknown, Omit<SweepSummary, 'unknownSamples'>>().handler(
    async (_event, context) => {
      const summary = await runSweep(deps, {
        remainingMs: () => context.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY,
        onStale: (entry) => logger.warn('stale cache entry', { ...entry }),
      });
      count(MetricName.Findings, summary.stale);
      count(MetricName.KeysCleared, summary.fix?.keysCleared ?? 0);
      count(MetricName.SweepFixErrors, summary.fix?.errors ?? 0);
      const { unknownSamples, ...rest } = summary;
      logger.info('sweep done', { ...rest, unknownSamples: unknownSamples.slice(0, 5) });
      if ((summary.fix?.errors ?? 0) > 0) {
        throw new SweepFixError(`sweep: ${summary.fix?.errors} fixes failed (see the log)`);
      }
      return rest;
    }
  );

export const handler = lazyHandler(async () => makeHandler(await composeSweep()));
