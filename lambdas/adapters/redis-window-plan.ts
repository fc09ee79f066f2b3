/**
 * The window store's bookkeeping around one engine run: the scopes as loaded (decoded, with the
 * write token each was read at), the partial engine state built from them, and the plan of the
 * apply script (what to check, write, delete or re-index) once the engine has run.
 */
import {
  digestsOfRepo,
  type EngineConfig,
  type EngineState,
  factDeadline,
  factRetentionMs,
  repoDeadline,
} from '../domain/engine.ts';
import type { BlobFact, RepoState } from '../domain/engine-state.ts';
import { blobScope, parseScope, repoScope, type ScopeId, scopeTtlMs } from './window-scopes.ts';
import {
  encodeState,
  envelope,
  openEnvelope,
  type ScopeState,
  writeToken,
} from './window-state-codec.ts';

export interface Loaded {
  /** What the scope id names (undefined for an id that is neither `repo:` nor `blob:`). */
  scope: ReturnType<typeof parseScope>;
  /** Write token as the script reads it: '' absent, '?' unreadable. */
  token: string;
  /** The state's text as loaded in the current format (to tell unchanged from changed). */
  json?: string;
  value?: ScopeState;
}

/** The scopes loaded for one attempt, by id and by name (to tell loaded from created ones). */
export interface LoadedScopes {
  byId: Map<ScopeId, Loaded>;
  repos: Set<string>;
  blobs: Set<string>;
}

/** What the apply script does to one scope (window-apply.lua). */
export type ScopeOp = 'write' | 'delete' | 'index' | 'check';

export interface Plan {
  keys: string[];
  args: (string | number)[];
  /** Longest TTL written (ms); the deadline index is kept at least that long. */
  maxTtl: number;
  /** Scopes written, deleted or re-indexed. */
  changes: number;
}

export function addLoaded(loaded: LoadedScopes, id: ScopeId, l: Loaded): void {
  loaded.byId.set(id, l);
  if (l.scope?.kind === 'repo') loaded.repos.add(l.scope.name);
  else if (l.scope?.kind === 'blob') loaded.blobs.add(l.scope.name);
}

/** Decodes the stored values of `ids`; an unreadable one is taken as absent (and overwritten). */
export function decodeScopes(
  ids: readonly ScopeId[],
  raws: readonly (string | null)[]
): LoadedScopes {
  const loaded: LoadedScopes = { byId: new Map(), repos: new Set(), blobs: new Set() };
  ids.forEach((id, i) => {
    const raw = raws[i];
    const scope = parseScope(id);
    if (raw == null || !scope) {
      addLoaded(loaded, id, { scope, token: writeToken(raw) });
      return;
    }
    try {
      addLoaded(loaded, id, { scope, ...openEnvelope(scope.kind, raw) });
    } catch {
      // Unreadable: treated as absent, and overwritten by the CAS on its token.
      addLoaded(loaded, id, { scope, token: writeToken(raw) });
    }
  });
  return loaded;
}

/** The partial engine state holding exactly the loaded scopes that have a value, in load order. */
export function stateOf(loaded: LoadedScopes): EngineState {
  const state: EngineState = { repos: new Map(), blobs: new Map() };
  for (const l of loaded.byId.values()) {
    if (l.value === undefined || !l.scope) continue;
    if (l.scope.kind === 'repo') state.repos.set(l.scope.name, l.value as RepoState);
    else state.blobs.set(l.scope.name, l.value as BlobFact);
  }
  return state;
}

export interface PlanInput {
  state: EngineState;
  loaded: LoadedScopes;
  /** Members of the deadline index being closed: re-indexed even if unchanged. */
  due: ReadonlySet<ScopeId>;
  /** Filled with the scopes the engine created without loading them (read as absent next time). */
  extra: Set<ScopeId>;
  now: number;
  engine: EngineConfig;
  stateTtlMs: number;
  /** Full Redis key of a scope id. */
  key: (id: ScopeId) => string;
  /** The write token of this attempt. */
  token: string;
}

/**
 * Builds the apply script's scope arguments. Every loaded scope is token-checked; changed ones
 * are written or deleted; `due` members have their index entry refreshed even if unchanged.
 * Scopes the engine created without loading them are checked as absent and remembered in `extra`.
 */
export function planWrite(input: PlanInput): Plan {
  const { state, loaded, due, extra, now, engine } = input;
  const W = engine.windowMs;
  const retention = factRetentionMs(engine);
  const margin = input.stateTtlMs - W;
  const plan: Plan = { keys: [], args: [], maxTtl: 0, changes: 0 };
  const visit = (
    id: ScopeId,
    kind: 'repo' | 'blob' | undefined,
    value?: ScopeState,
    deadline?: number,
    before?: Loaded
  ) => {
    if (!before) extra.add(id);
    const was = before?.token ?? '';
    const json = value === undefined || !kind ? undefined : encodeState(kind, value);
    let op: ScopeOp;
    if (json === undefined) op = was === '' && !due.has(id) ? 'check' : 'delete';
    else if (json !== before?.json) op = 'write';
    else op = due.has(id) ? 'index' : 'check';
    if (op !== 'check') plan.changes++;
    const indexed = json === undefined ? undefined : deadline;
    const ttl = scopeTtlMs(indexed, now, W, margin);
    if (op === 'write' || op === 'index') plan.maxTtl = Math.max(plan.maxTtl, ttl);
    plan.keys.push(input.key(id));
    const value_ = op === 'write' && json !== undefined ? envelope(input.token, json) : '';
    plan.args.push(was, op, value_, indexed ?? '', ttl);
  };
  // Loaded scopes first (in load order), then those the engine created, repositories first.
  for (const [id, l] of loaded.byId) {
    if (l.scope?.kind === 'repo') {
      const repo = state.repos.get(l.scope.name);
      visit(id, 'repo', repo, repo && repoDeadline(repo, W), l);
    } else if (l.scope?.kind === 'blob') {
      const fact = state.blobs.get(l.scope.name);
      visit(id, 'blob', fact, fact && factDeadline(fact, retention), l);
    } else visit(id, undefined, undefined, undefined, l);
  }
  for (const [name, repo] of state.repos) {
    if (!loaded.repos.has(name)) visit(repoScope(name), 'repo', repo, repoDeadline(repo, W));
  }
  for (const [digest, fact] of state.blobs) {
    if (!loaded.blobs.has(digest))
      visit(blobScope(digest), 'blob', fact, factDeadline(fact, retention));
  }
  return plan;
}

/** Loads scopes by id, with the facts of every digest a loaded repository refers to. */
export async function loadWithFacts(
  ids: readonly ScopeId[],
  mget: (keys: string[]) => Promise<(string | null)[]>,
  key: (id: ScopeId) => string
): Promise<LoadedScopes> {
  const loaded = decodeScopes(ids, await mget(ids.map(key)));
  const related = new Set<ScopeId>();
  for (const l of loaded.byId.values()) {
    if (l.scope?.kind !== 'repo' || l.value === undefined) continue;
    for (const d of digestsOfRepo(l.value as RepoState)) {
      const b = blobScope(d);
      if (!loaded.byId.has(b)) related.add(b);
    }
  }
  if (related.size > 0) {
    const more = [...related];
    const decoded = decodeScopes(more, await mget(more.map(key)));
    for (const [id, l] of decoded.byId) addLoaded(loaded, id, l);
  }
  return loaded;
}
