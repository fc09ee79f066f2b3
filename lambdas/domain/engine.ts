/**
 * Correlation engine: a pure function of (state, event, now) that returns findings and the storage
 * checks it needs. Primary course:
 *   1. drop duplicates and stale reorders (per-key sequencer, or the event's dedupe key);
 *   2. learn facts: which blobs exist, which repositories link them, uploads and commits per
 *      repository (engine-storage.ts, engine-webhooks.ts, engine-checks.ts);
 *   3. ask storage (checks) when a decision rests on a fact the events do not prove;
 *   4. report at once when storage proves an absence, otherwise when a window closes
 *      (engine-close.ts).
 * The engine mutates the state it is given (callers own it) and never does I/O. This module is
 * the engine's public face: the others never import it.
 */

import { onCheck } from './engine-checks.ts';
import type { EngineConfig, EngineOutput } from './engine-config.ts';
import type { EngineState } from './engine-state.ts';
import { onBlobData, onRepoKey } from './engine-storage.ts';
import { onWebhook } from './engine-webhooks.ts';
import type { CheckResultEvent, NormalizedEvent } from './types.ts';

/** Applies one event; mutates `state` and returns the findings and checks it yields. */
export function applyEvent(
  state: EngineState,
  event: NormalizedEvent | CheckResultEvent,
  now: number,
  cfg: EngineConfig
): EngineOutput {
  const out: EngineOutput = { findings: [], checks: [] };
  if (event.source === 'harbor') onWebhook(state, event, now, cfg);
  else if (event.source === 'check') onCheck(state, event, now, cfg, out);
  else if (event.storageKey.kind === 'blob-data') onBlobData(state, event, now, cfg, out);
  else onRepoKey(state, event, now, cfg, out);
  return out;
}

export { closeDue } from './engine-close.ts';
export {
  DAY,
  type EngineConfig,
  type EngineOutput,
  factRetentionMs,
  MAX_WINDOW_MS,
  MIN_WINDOW_MS,
} from './engine-config.ts';
export { deadlinesOf, factDeadline, repoDeadline } from './engine-deadlines.ts';
export { digestsOfRepo, forEachScope, scopesOf } from './engine-scopes.ts';
export { type BlobFact, createState, type EngineState, type RepoState } from './engine-state.ts';
