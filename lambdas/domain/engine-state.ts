/**
 * The correlation engine's state. Everything keyed by a name from outside (repository, digest,
 * tag, upload id, dedupe key) is a Map: no name ever becomes a property, so `__proto__` or
 * `constructor` are names like any other. A store keeps each scope (one repository, one digest)
 * under its own key through a codec (lambdas/adapters/window-state-codec.ts) and loads only the
 * scopes a batch touches.
 */
import type { FindingKind } from './types.ts';

/**
 * One S3 event kept as evidence: `[time, eventName, key, sequencer?]`. Rendered to its text line
 * (`s3 <eventName> <key> seq=<sequencer> at <ISO time>`) only when a finding is made.
 */
export type S3Evidence = [time: number, eventName: string, key: string, sequencer?: string];

/** A piece of evidence: a rendered line, or an S3 event rendered on demand. */
export type Evidence = string | S3Evidence;

/** One upload session (`_uploads/<uuid>/`). */
export interface UploadState {
  started: number;
  last: number;
  /** `startedat` removed: committed or cancelled; later writes under it are leftovers. */
  closed: boolean;
  /** Emptied once the session is closed (only an open session is ever reported). */
  evidence: Evidence[];
}

/** A revision link written for a manifest in this repository, awaiting proof its data exists. */
export interface ManifestState {
  at: number;
  deadline: number;
  /** The manifest data was read and parsed; its references were asked about. */
  referencesChecked: boolean;
  /** Digests the manifest references, once read. */
  references?: string[];
  /** How many times storage was asked at the deadline without an answer. */
  attempts: number;
  evidence: Evidence[];
}

/** A Harbor PUSH_ARTIFACT waiting for the revision link it implies. */
export interface WebhookState {
  at: number;
  deadline: number;
  tag?: string;
  attempts: number;
  /** Storage said the link exists (present) or not (missing). */
  linkCheck?: 'present' | 'missing';
  evidence: Evidence[];
}

/** A layer link written in the window whose data presence is not yet known. */
export interface LayerState {
  at: number;
  deadline: number;
  attempts: number;
  evidence: Evidence[];
}

/** Activity (upload writes, new layer links) not yet followed by a revision link. */
export interface ActivityState {
  first: number;
  last: number;
  evidence: Evidence[];
}

/**
 * Last sequencer applied per ordered object key of a repository, by kind of key and keyed by the
 * names the key is made of (no key string is built to look one up).
 */
export interface SequencerMaps {
  /** Upload id → sequencer of its `startedat`. */
  uploads: Map<string, string>;
  /** Digest → sequencer of its layer link. */
  layers: Map<string, string>;
  /** Digest → sequencer of its manifest revision link. */
  revisions: Map<string, string>;
  /** Tag → digest → sequencer of its tag index link. */
  tagIndex: Map<string, Map<string, string>>;
  /** Tag → sequencer of its tag current link. */
  tagCurrent: Map<string, string>;
}

export interface RepoState {
  /** Drops duplicates and stale reorders of the repository's ordered keys. */
  sequencers: SequencerMaps;
  /** Dedupe key → time, of events that carry no sequencer (webhooks). */
  seen: Map<string, number>;
  /** Dropped as soon as a revision link follows it: nothing reads a committed activity. */
  activity?: ActivityState;
  /** Time of the latest revision link write. */
  lastCommit?: number;
  /** Upload id → session. */
  uploads: Map<string, UploadState>;
  /** Digest → manifest awaiting proof. */
  manifests: Map<string, ManifestState>;
  /** Digest → webhook awaiting its revision link. */
  webhooks: Map<string, WebhookState>;
  /** Digest → layer link awaiting proof. */
  layers: Map<string, LayerState>;
  /** Tag → digest, from tag index links and webhooks. */
  tags: Map<string, string>;
  /** Finding id → time: findings already emitted for this repository (no digest-scoped ones). */
  reported: Map<string, number>;
  /** Time of the latest event for this repository. */
  lastEvent: number;
}

/** The data was removed while repositories still link it: verify and report. */
export interface PendingRemoval {
  at: number;
  deadline: number;
  attempts: number;
  evidence: Evidence[];
}

export interface BlobFact {
  presence: 'present' | 'missing' | 'unknown';
  /** When the presence was learned (event time or check time). */
  at: number;
  /** How it was learned. */
  source: 'event' | 'check' | 'none';
  /** Last sequencer of the blob data key. */
  seq?: string;
  /** Repositories that link this digest as a manifest / as a layer or config. */
  manifestOf: string[];
  layerOf: string[];
  pendingRemoval?: PendingRemoval;
  /** Finding id → time: findings emitted about this digest; cleared once the data is back. */
  reported: Map<string, number>;
  /** Repository → the latest tag it gave this digest (tag index links, webhooks). */
  tags?: Map<string, string>;
  /** Last time anything touched this fact. */
  touched: number;
}

export interface EngineState {
  /** Repository name → its state. */
  repos: Map<string, RepoState>;
  /** Digest → what is known about its data. */
  blobs: Map<string, BlobFact>;
  /** When blob facts were last swept for retention (event time). */
  sweptAt?: number;
}

export function createState(): EngineState {
  return { repos: new Map(), blobs: new Map() };
}

export function newSequencers(): SequencerMaps {
  return {
    uploads: new Map(),
    layers: new Map(),
    revisions: new Map(),
    tagIndex: new Map(),
    tagCurrent: new Map(),
  };
}

export function newRepo(now: number): RepoState {
  return {
    sequencers: newSequencers(),
    seen: new Map(),
    uploads: new Map(),
    manifests: new Map(),
    webhooks: new Map(),
    layers: new Map(),
    tags: new Map(),
    reported: new Map(),
    lastEvent: now,
  };
}

export function newFact(now: number): BlobFact {
  return {
    presence: 'unknown',
    at: now,
    source: 'none',
    manifestOf: [],
    layerOf: [],
    reported: new Map(),
    touched: now,
  };
}

export function findingId(kind: FindingKind, repository: string, ref: string | undefined): string {
  return `${kind}|${repository}|${ref ?? ''}`;
}

export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : new Date(8.64e15).toISOString();
}

export function addUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

export function removeValue(list: string[], value: string): void {
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
}

/** Keeps evidence lists short: the first entries explain, the count says the rest. */
export function pushEvidence(list: Evidence[], line: Evidence, max = 12): void {
  if (list.length < max) list.push(line);
  else if (list.length === max) list.push('…more events omitted');
}

/** The text of one piece of evidence. */
export function renderEvidence(e: Evidence): string {
  if (typeof e === 'string') return e;
  const seq = e[3];
  return `s3 ${e[1]} ${e[2]}${seq ? ` seq=${seq}` : ''} at ${iso(e[0])}`;
}

/** The repository's state, created on first use. */
export function repoOf(state: EngineState, name: string, now: number): RepoState {
  let r = state.repos.get(name);
  if (!r) {
    r = newRepo(now);
    state.repos.set(name, r);
  }
  return r;
}

/** The digest's fact, created on first use, and marked touched at `now`. */
export function factOf(state: EngineState, digest: string, now: number): BlobFact {
  let f = state.blobs.get(digest);
  if (!f) {
    f = newFact(now);
    state.blobs.set(digest, f);
  }
  f.touched = Math.max(f.touched, now);
  return f;
}

/** The latest tag a repository gave a digest, kept with the digest's facts (outlives the window). */
export function rememberTag(fact: BlobFact, repository: string, tag: string): void {
  fact.tags ??= new Map();
  fact.tags.set(repository, tag);
}
