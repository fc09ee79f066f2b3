/**
 * The correlation engine's state: plain JSON, so a store can keep each scope (one repository, one
 * digest) under its own key and load only the scopes a batch touches.
 */
import type { Finding, FindingKind } from './types.ts';

/**
 * One S3 event kept as evidence: `[time, eventName, key, sequencer?]`. Rendered to its text line
 * (`s3 <eventName> <key> seq=<sequencer> at <ISO time>`) only when a finding is made, so the hot
 * path builds no strings and the stored state stays small.
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

/**
 * Last sequencer applied per ordered object key of a repository, by kind of key and keyed by the
 * names the key is made of (no key string is built to look one up). Maps are created on first use.
 */
export interface SeqMaps {
  /** Upload id → its `startedat`. */
  u?: Record<string, string>;
  /** Digest → its layer link. */
  l?: Record<string, string>;
  /** Digest → its manifest revision link. */
  r?: Record<string, string>;
  /** Tag → digest → its tag index link. */
  i?: Record<string, Record<string, string>>;
  /** Tag → its tag current link. */
  c?: Record<string, string>;
}

export interface RepoState {
  /** Drops duplicates and stale reorders of the repository's ordered keys. */
  seq: SeqMaps;
  /** Dedupe keys of events that carry no sequencer (webhooks). */
  seen: Record<string, number>;
  /**
   * Upload activity or new layer links not yet followed by a revision link (dropped as soon as a
   * revision link follows it: nothing reads a committed activity).
   */
  activity?: { first: number; last: number; evidence: Evidence[] };
  /** Time of the latest revision link write. */
  lastCommit?: number;
  uploads: Record<string, UploadState>;
  manifests: Record<string, ManifestState>;
  webhooks: Record<string, WebhookState>;
  /** Layer links written in the window whose data presence is not yet known. */
  layers: Record<string, { at: number; deadline: number; attempts: number; evidence: Evidence[] }>;
  /** Tag → digest, from tag index links. */
  tags: Record<string, string>;
  /** Findings already emitted for this repository (id → time), no digest-scoped ones. */
  reported: Record<string, number>;
  /** Time of the latest event for this repository. */
  lastEvent: number;
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
  /** The data was removed while repositories still link it: verify and report. */
  pendingRemoval?: { at: number; deadline: number; attempts: number; evidence: Evidence[] };
  /** Findings emitted about this digest (id → time); cleared once the data is back. */
  reported: Record<string, number>;
  /** The latest tag each repository gave this digest (tag index links, webhooks). */
  tags?: Record<string, string>;
  /** Last time anything touched this fact. */
  touched: number;
}

export interface EngineState {
  repos: Record<string, RepoState>;
  blobs: Record<string, BlobFact>;
  /** When blob facts were last swept for retention (event time). */
  sweptAt?: number;
}

/**
 * An empty map keyed by names (upload ids, digests, tags...): created in dictionary mode, so
 * adding a key is a hash insert, not a new hidden class per distinct key as for `{}`. JSON
 * serialises it as any object.
 */
export function newMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function createState(): EngineState {
  return { repos: newMap(), blobs: newMap() };
}

export function newRepo(now: number): RepoState {
  return {
    seq: {},
    seen: newMap(),
    uploads: newMap(),
    manifests: newMap(),
    webhooks: newMap(),
    layers: newMap(),
    tags: newMap(),
    reported: newMap(),
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
    reported: newMap(),
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

export type { Finding };
