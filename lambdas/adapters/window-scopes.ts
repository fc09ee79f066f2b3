/**
 * Scope bookkeeping shared by the window stores (Redis and memory): which repository and digest
 * scopes a batch reads, the partial engine state built from them, and what changed afterwards.
 * Pure: no I/O, no SDK.
 */
import {
  type BlobFact,
  deadlinesOf,
  type EngineConfig,
  type EngineState,
  forEachScope,
  type RepoState,
} from '../domain/engine.ts';
import type { CheckResultEvent, NormalizedEvent } from '../domain/types.ts';
import type { ScopeState } from './window-state-codec.ts';

/** `repo:<repository>` or `blob:<digest>`: the member name in the deadline index. */
export type ScopeId = string;

export type WindowEvent = NormalizedEvent | CheckResultEvent;

export const repoScope = (repository: string): ScopeId => `repo:${repository}`;
export const blobScope = (digest: string): ScopeId => `blob:${digest}`;

export function parseScope(id: ScopeId): { kind: 'repo' | 'blob'; name: string } | undefined {
  if (id.startsWith('repo:')) return { kind: 'repo', name: id.slice(5) };
  if (id.startsWith('blob:')) return { kind: 'blob', name: id.slice(5) };
  return undefined;
}

/** Every scope the events name, in first-seen order. */
export function scopesOfEvents(events: readonly WindowEvent[], into = new Set<ScopeId>()) {
  // Names are deduplicated before a scope id is built: one string per scope, not per event.
  const repos = new Set<string>();
  const digests = new Set<string>();
  const onRepository = (name: string) => {
    if (repos.has(name)) return;
    repos.add(name);
    into.add(repoScope(name));
  };
  const onDigest = (digest: string) => {
    if (digests.has(digest)) return;
    digests.add(digest);
    into.add(blobScope(digest));
  };
  for (const event of events) forEachScope(event, onRepository, onDigest);
  return into;
}

/** Splits a batch into first occurrences not yet seen and duplicates (in-batch or earlier). */
export function dropDuplicates(
  events: readonly WindowEvent[],
  seen: (dedupeKey: string) => boolean
): { fresh: WindowEvent[]; dedupeKeys: string[]; duplicates: number } {
  const fresh: WindowEvent[] = [];
  const dedupeKeys: string[] = [];
  const inBatch = new Set<string>();
  let duplicates = 0;
  for (const event of events) {
    const key = 'dedupeKey' in event ? event.dedupeKey : undefined;
    if (key === undefined) {
      fresh.push(event);
      continue;
    }
    if (inBatch.has(key) || seen(key)) {
      duplicates++;
      continue;
    }
    inBatch.add(key);
    dedupeKeys.push(key);
    fresh.push(event);
  }
  return { fresh, dedupeKeys, duplicates };
}

/** The engine state holding exactly the given scopes (absent ones are left out). */
export function partialState(values: ReadonlyMap<ScopeId, ScopeState | undefined>): EngineState {
  const state: EngineState = { repos: new Map(), blobs: new Map() };
  for (const [id, value] of values) {
    if (value === undefined) continue;
    const scope = parseScope(id);
    if (scope?.kind === 'repo') state.repos.set(scope.name, value as RepoState);
    else if (scope?.kind === 'blob') state.blobs.set(scope.name, value as BlobFact);
  }
  return state;
}

export function scopeValue(state: EngineState, id: ScopeId): ScopeState | undefined {
  const scope = parseScope(id);
  if (scope?.kind === 'repo') return state.repos.get(scope.name);
  if (scope?.kind === 'blob') return state.blobs.get(scope.name);
  return undefined;
}

/** Every scope present in the state. */
export function scopesInState(state: EngineState): ScopeId[] {
  return [
    ...Array.from(state.repos.keys(), repoScope),
    ...Array.from(state.blobs.keys(), blobScope),
  ];
}

/** Deadline of each scope present in the state that has one. */
export function deadlineIndex(state: EngineState, config: EngineConfig): Map<ScopeId, number> {
  const { repositories, digests } = deadlinesOf(state, config);
  const index = new Map<ScopeId, number>();
  for (const [r, t] of repositories) index.set(repoScope(r), t);
  for (const [d, t] of digests) index.set(blobScope(d), t);
  return index;
}

/**
 * How long a scope's stored state lives after a write: until its deadline (at least one window
 * from now) plus a margin, so nothing outlives its window by much while a late poll still finds it.
 */
export function scopeTtlMs(
  deadline: number | undefined,
  now: number,
  windowMs: number,
  marginMs: number
): number {
  const untilDeadline = deadline !== undefined && Number.isFinite(deadline) ? deadline - now : 0;
  return Math.ceil(Math.max(untilDeadline, windowMs) + marginMs);
}
