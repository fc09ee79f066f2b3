/**
 * Format 1 of the stored window state (written before format 2; see window-state-codec.ts), read
 * so that an upgrade finishes the windows in flight. Maps were plain JSON objects keyed by names:
 * they are read with Object.entries (own properties only, `__proto__` included as a name) into
 * Maps, never looked up by name. A blob fact was stored by position: `[presence, at, source,
 * manifestOf, layerOf, reported, touched, seq or 0, {pendingRemoval, tags}?]`.
 */
import type { BlobFact, Evidence, RepoState, SequencerMaps } from '../domain/engine-state.ts';
import { newSequencers } from '../domain/engine-state.ts';

type Obj = { readonly [field: string]: unknown };

function fail(what: string): never {
  throw new Error(`format 1 state: ${what}`);
}
function obj(v: unknown, what: string): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : fail(what);
}
/** A name-keyed object → Map, values taken as they are (format 1 wrote them as the engine had them). */
function entries<T>(v: unknown, what: string): Map<string, T> {
  return v === undefined ? new Map() : new Map(Object.entries(obj(v, what)) as [string, T][]);
}

function sequencersV1(v: unknown): SequencerMaps {
  if (v === undefined) return newSequencers();
  const o = obj(v, 'seq');
  const tagIndex = new Map<string, Map<string, string>>();
  for (const [tag, byDigest] of Object.entries(obj(o.i ?? {}, 'seq.i')))
    tagIndex.set(tag, entries(byDigest, 'seq.i'));
  return {
    uploads: entries(o.u, 'seq.u'),
    layers: entries(o.l, 'seq.l'),
    revisions: entries(o.r, 'seq.r'),
    tagIndex,
    tagCurrent: entries(o.c, 'seq.c'),
  };
}

export function decodeRepoV1(parsed: unknown): RepoState {
  const o = obj(parsed, 'repository');
  if (typeof o.lastEvent !== 'number') fail('lastEvent');
  const repo: RepoState = {
    sequencers: sequencersV1(o.seq),
    seen: entries(o.seen, 'seen'),
    uploads: entries(o.uploads, 'uploads'),
    manifests: entries(o.manifests, 'manifests'),
    webhooks: entries(o.webhooks, 'webhooks'),
    layers: entries(o.layers, 'layers'),
    tags: entries(o.tags, 'tags'),
    reported: entries(o.reported, 'reported'),
    lastEvent: o.lastEvent,
  };
  if (o.activity !== undefined) repo.activity = o.activity as RepoState['activity'];
  if (typeof o.lastCommit === 'number') repo.lastCommit = o.lastCommit;
  return repo;
}

export function decodeFactV1(parsed: unknown): BlobFact {
  if (!Array.isArray(parsed) || parsed.length < 8) fail('blob fact');
  const [presence, at, source, manifestOf, layerOf, reported, touched, seq, rest] = parsed;
  const fact: BlobFact = {
    presence,
    at,
    source,
    manifestOf,
    layerOf,
    reported: entries(reported, 'reported'),
    touched,
  } as BlobFact;
  if (seq !== 0) fact.seq = seq as string;
  const more = rest === undefined ? {} : obj(rest, 'blob fact');
  if (more.pendingRemoval !== undefined)
    fact.pendingRemoval = more.pendingRemoval as {
      at: number;
      deadline: number;
      attempts: number;
      evidence: Evidence[];
    };
  if (more.tags !== undefined) fact.tags = entries(more.tags, 'tags');
  return fact;
}
