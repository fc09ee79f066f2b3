/**
 * `window-check` (EventBridge rule, every minute): closes due correlation windows and publishes
 * their findings. A failing closeDue throws (nothing was written; the function error is alarmed
 * and the next minute retries); check or publish errors are deferred to the next poll.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { closeDueWindows, type WindowCheckDeps } from '../app/window-check.ts';
import { count, logger, MetricName } from '../observability.ts';
import { composeWindowCheck } from './compose/correlation.ts';
import { lazyHandler } from './compose/lazy-handler.ts';
import { observedHandler } from './compose/observed.ts';

export const makeHandler = (deps: WindowCheckDeps) =>
  observedHandler<ScheduledEvent, { findings: number; pending: number }>().handler(async () => {
    const result = await closeDueWindows(deps);
    for (const e of result.deferred ?? []) logger.warn('deferred', { error: e.message });
    count(MetricName.Findings, result.findings.length);
    logger.info('windows closed', {
      produced: result.produced,
      published: result.findings.length,
      checked: result.checked,
      pending: result.pending,
    });
    return { findings: result.findings.length, pending: result.pending };
  });

export const handler = lazyHandler(async () => makeHandler(await composeWindowCheck()));
