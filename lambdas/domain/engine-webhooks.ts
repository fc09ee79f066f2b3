/**
 * What the engine learns from a Harbor webhook: a PUSH_ARTIFACT opens a window that the revision
 * link it implies must close; tags are remembered; a DELETE_ARTIFACT cancels the window.
 */
import type { EngineConfig } from './engine-config.ts';
import {
  type EngineState,
  factOf,
  iso,
  pushEvidence,
  rememberTag,
  repoOf,
} from './engine-state.ts';
import type { WebhookEvent } from './types.ts';

export function onWebhook(state: EngineState, e: WebhookEvent, now: number, cfg: EngineConfig) {
  const repo = repoOf(state, e.repository, now);
  if (repo.seen.has(e.dedupeKey)) return;
  repo.seen.set(e.dedupeKey, e.time);
  repo.lastEvent = Math.max(repo.lastEvent, e.time);
  if (!e.digest) {
    if (repo.activity) {
      const details = e.details ? `: ${e.details}` : '';
      pushEvidence(repo.activity.evidence, `harbor ${e.type}${details} at ${iso(e.time)}`);
    }
    return;
  }
  if (e.tag) {
    repo.tags.set(e.tag, e.digest);
    rememberTag(factOf(state, e.digest, now), e.repository, e.tag);
  }
  if (e.type === 'DELETE_ARTIFACT') {
    repo.webhooks.delete(e.digest);
    return;
  }
  if (e.type !== 'PUSH_ARTIFACT' || repo.manifests.has(e.digest) || repo.webhooks.has(e.digest))
    return;
  const tagged = e.tag ? ` tag ${e.tag}` : '';
  repo.webhooks.set(e.digest, {
    at: e.time,
    deadline: e.time + cfg.windowMs,
    tag: e.tag,
    attempts: 0,
    evidence: [
      `harbor PUSH_ARTIFACT ${e.repository}@${e.digest}${tagged} at ${iso(e.time)} (${e.format})`,
    ],
  });
}
