/**
 * How a window store keeps one scope of the engine's state (a repository, or a digest's facts)
 * as text: versioned, readable JSON an operator can read with `redis-cli GET`.
 *
 * Stored value: `{"v":"<write token>","format":2,"state":<state>}`. The write token is what the
 * compare-and-set script checks (it must come first); `format` says how to read `state`. The
 * engine's maps (keyed by names from outside: tags, upload ids, digests...) are stored as arrays
 * of `[name, value]` pairs in their order, and read back into Maps: a name is never a property,
 * and the order the engine iterates in survives the round trip. S3 evidence is an object with its
 * field names. Every non-ASCII character is escaped (`\u2026`): the scripts' arguments stay
 * one-byte text.
 *
 * Format 1 (before format 2, no `format` field): `{"v":"<token>","s":<state>}` with plain objects
 * for maps, one-letter sequencer fields and blob facts by position. It is still read (an upgrade
 * finishes the windows in flight), and written back as format 2 on the next change.
 */
import type {
  ActivityState,
  BlobFact,
  Evidence,
  LayerState,
  ManifestState,
  PendingRemoval,
  RepoState,
  S3Evidence,
  SequencerMaps,
  UploadState,
  WebhookState,
} from '../domain/engine-state.ts';
import { decodeFactV1, decodeRepoV1 } from './window-state-codec-v1.ts';

export const STATE_FORMAT = 2;

export type ScopeKind = 'repo' | 'blob';
export type ScopeState = RepoState | BlobFact;

/** A stored value that is not a state this codec can read. */
export class UnreadableStateError extends Error {}

const TOKEN_RE = /^\{"v":"([^"]*)"/;

/** The write token of a stored value: '' when absent, '?' when unreadable (as the script sees it). */
export function writeToken(raw: string | null | undefined): string {
  if (raw == null) return '';
  return TOKEN_RE.exec(raw)?.[1] ?? '?';
}

/** The stored value of a scope's state text (`encodeState`) under a write token. */
export function envelope(token: string, stateJson: string): string {
  return `{"v":"${token}","format":${STATE_FORMAT},"state":${stateJson}}`;
}

/**
 * Reads a stored value. `json` is the state's text when it is in the current format (a store
 * compares it with the text of the state after a batch to tell unchanged scopes); a value in an
 * older format has none, so it is rewritten on its next write.
 */
export function openEnvelope(
  kind: ScopeKind,
  raw: string
): { token: string; value: ScopeState; json?: string } {
  const token = writeToken(raw);
  const current = `{"v":"${token}","format":${STATE_FORMAT},"state":`;
  if (raw.startsWith(current) && raw.endsWith('}')) {
    const json = raw.slice(current.length, -1);
    return { token, value: decodeState(kind, json), json };
  }
  const v1 = `{"v":"${token}","s":`;
  if (raw.startsWith(v1) && raw.endsWith('}')) {
    try {
      const parsed: unknown = JSON.parse(raw.slice(v1.length, -1));
      return { token, value: kind === 'repo' ? decodeRepoV1(parsed) : decodeFactV1(parsed) };
    } catch (err) {
      throw new UnreadableStateError(err instanceof Error ? err.message : String(err));
    }
  }
  throw new UnreadableStateError(`not a stored ${kind} state`);
}

// ---------------------------------------------------------------------------------------------
// Encoding (format 2)
// ---------------------------------------------------------------------------------------------

type Pairs<T> = [string, T][];

const pairs = <V, T>(map: ReadonlyMap<string, V>, f: (v: V) => T): Pairs<T> =>
  Array.from(map, ([k, v]) => [k, f(v)]);
const same = <T>(v: T): T => v;

function storedEvidence(list: readonly Evidence[]): unknown[] {
  return list.map((e) =>
    typeof e === 'string'
      ? e
      : e[3] === undefined
        ? { at: e[0], event: e[1], key: e[2] }
        : { at: e[0], event: e[1], key: e[2], sequencer: e[3] }
  );
}

const storedWindow = (w: LayerState | PendingRemoval) => ({
  at: w.at,
  deadline: w.deadline,
  attempts: w.attempts,
  evidence: storedEvidence(w.evidence),
});
const storedUpload = (u: UploadState) => ({
  started: u.started,
  last: u.last,
  closed: u.closed,
  evidence: storedEvidence(u.evidence),
});
const storedManifest = (m: ManifestState) => ({
  at: m.at,
  deadline: m.deadline,
  referencesChecked: m.referencesChecked,
  attempts: m.attempts,
  evidence: storedEvidence(m.evidence),
  references: m.references,
});
const storedWebhook = (w: WebhookState) => ({
  at: w.at,
  deadline: w.deadline,
  tag: w.tag,
  attempts: w.attempts,
  linkCheck: w.linkCheck,
  evidence: storedEvidence(w.evidence),
});
const storedActivity = (a: ActivityState) => ({
  first: a.first,
  last: a.last,
  evidence: storedEvidence(a.evidence),
});

function storedRepo(r: RepoState): unknown {
  const s = r.sequencers;
  return {
    sequencers: {
      uploads: pairs(s.uploads, same),
      layers: pairs(s.layers, same),
      revisions: pairs(s.revisions, same),
      tagIndex: pairs(s.tagIndex, (m) => pairs(m, same)),
      tagCurrent: pairs(s.tagCurrent, same),
    },
    seen: pairs(r.seen, same),
    activity: r.activity && storedActivity(r.activity),
    lastCommit: r.lastCommit,
    uploads: pairs(r.uploads, storedUpload),
    manifests: pairs(r.manifests, storedManifest),
    webhooks: pairs(r.webhooks, storedWebhook),
    layers: pairs(r.layers, storedWindow),
    tags: pairs(r.tags, same),
    reported: pairs(r.reported, same),
    lastEvent: r.lastEvent,
  };
}

function storedFact(f: BlobFact): unknown {
  return {
    presence: f.presence,
    at: f.at,
    source: f.source,
    sequencer: f.seq,
    manifestOf: f.manifestOf,
    layerOf: f.layerOf,
    pendingRemoval: f.pendingRemoval && storedWindow(f.pendingRemoval),
    reported: pairs(f.reported, same),
    tags: f.tags && pairs(f.tags, same),
    touched: f.touched,
  };
}

const NON_ASCII = /[\u0080-\uffff]/g;

/** JSON with every non-ASCII character escaped: parses to the same value, one byte a character. */
export function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) === json.length) return json;
  return json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The text of a scope's state (format 2), deterministic: the same state gives the same text. */
export function encodeState(kind: ScopeKind, value: ScopeState): string {
  return asciiJson(
    kind === 'repo' ? storedRepo(value as RepoState) : storedFact(value as BlobFact)
  );
}

// ---------------------------------------------------------------------------------------------
// Decoding (format 2): checked field by field; anything off the shape is unreadable.
// ---------------------------------------------------------------------------------------------

type Obj = { readonly [field: string]: unknown };

function fail(what: string): never {
  throw new UnreadableStateError(`stored state: ${what}`);
}
function obj(v: unknown, what: string): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : fail(what);
}
function num(v: unknown, what: string): number {
  return typeof v === 'number' ? v : fail(what);
}
function str(v: unknown, what: string): string {
  return typeof v === 'string' ? v : fail(what);
}
function optNum(v: unknown, what: string): number | undefined {
  return v === undefined ? undefined : num(v, what);
}
function strings(v: unknown, what: string): string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : fail(what);
}
function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
  return allowed.includes(v as T) ? (v as T) : fail(what);
}

/** `[[name, value], ...]` → Map, each value read by `f`. */
export function mapOf<T>(v: unknown, f: (x: unknown) => T, what: string): Map<string, T> {
  if (!Array.isArray(v)) fail(what);
  const map = new Map<string, T>();
  for (const pair of v) {
    if (!Array.isArray(pair) || pair.length !== 2) fail(what);
    map.set(str(pair[0], what), f(pair[1]));
  }
  return map;
}
const numberIn = (what: string) => (x: unknown) => num(x, what);
const stringIn = (what: string) => (x: unknown) => str(x, what);

function evidenceOf(v: unknown): Evidence[] {
  if (!Array.isArray(v)) fail('evidence');
  return v.map((e): Evidence => {
    if (typeof e === 'string') return e;
    const o = obj(e, 'evidence');
    const tuple: S3Evidence = [
      num(o.at, 'evidence'),
      str(o.event, 'evidence'),
      str(o.key, 'evidence'),
    ];
    if (o.sequencer !== undefined) tuple.push(str(o.sequencer, 'evidence'));
    return tuple;
  });
}

function windowOf(v: unknown, what: string): LayerState {
  const o = obj(v, what);
  return {
    at: num(o.at, what),
    deadline: num(o.deadline, what),
    attempts: num(o.attempts, what),
    evidence: evidenceOf(o.evidence),
  };
}

function uploadOf(v: unknown): UploadState {
  const o = obj(v, 'upload');
  if (typeof o.closed !== 'boolean') fail('upload');
  const evidence = evidenceOf(o.evidence);
  return {
    started: num(o.started, 'upload'),
    last: num(o.last, 'upload'),
    closed: o.closed,
    evidence,
  };
}

function manifestOf(v: unknown): ManifestState {
  const o = obj(v, 'manifest');
  const { at, deadline, attempts, evidence } = windowOf(o, 'manifest');
  if (typeof o.referencesChecked !== 'boolean') fail('manifest');
  const m: ManifestState = {
    at,
    deadline,
    referencesChecked: o.referencesChecked,
    attempts,
    evidence,
  };
  if (o.references !== undefined) m.references = strings(o.references, 'manifest');
  return m;
}

function webhookOf(v: unknown): WebhookState {
  const o = obj(v, 'webhook');
  const { at, deadline, attempts, evidence } = windowOf(o, 'webhook');
  const w: WebhookState = { at, deadline, attempts, evidence };
  if (o.tag !== undefined) w.tag = str(o.tag, 'webhook');
  if (o.linkCheck !== undefined)
    w.linkCheck = oneOf<'present' | 'missing'>(o.linkCheck, ['present', 'missing'], 'webhook');
  return w;
}

function activityOf(v: unknown): ActivityState {
  const o = obj(v, 'activity');
  return {
    first: num(o.first, 'activity'),
    last: num(o.last, 'activity'),
    evidence: evidenceOf(o.evidence),
  };
}

function sequencersOf(v: unknown): SequencerMaps {
  const o = obj(v, 'sequencers');
  const seq = stringIn('sequencer');
  return {
    uploads: mapOf(o.uploads, seq, 'sequencers'),
    layers: mapOf(o.layers, seq, 'sequencers'),
    revisions: mapOf(o.revisions, seq, 'sequencers'),
    tagIndex: mapOf(o.tagIndex, (m) => mapOf(m, seq, 'sequencers'), 'sequencers'),
    tagCurrent: mapOf(o.tagCurrent, seq, 'sequencers'),
  };
}

function decodeRepo(o: Obj): RepoState {
  const repo: RepoState = {
    sequencers: sequencersOf(o.sequencers),
    seen: mapOf(o.seen, numberIn('seen'), 'seen'),
    uploads: mapOf(o.uploads, uploadOf, 'uploads'),
    manifests: mapOf(o.manifests, manifestOf, 'manifests'),
    webhooks: mapOf(o.webhooks, webhookOf, 'webhooks'),
    layers: mapOf(o.layers, (x) => windowOf(x, 'layer'), 'layers'),
    tags: mapOf(o.tags, stringIn('tags'), 'tags'),
    reported: mapOf(o.reported, numberIn('reported'), 'reported'),
    lastEvent: num(o.lastEvent, 'lastEvent'),
  };
  if (o.activity !== undefined) repo.activity = activityOf(o.activity);
  const lastCommit = optNum(o.lastCommit, 'lastCommit');
  if (lastCommit !== undefined) repo.lastCommit = lastCommit;
  return repo;
}

function decodeFact(o: Obj): BlobFact {
  const fact: BlobFact = {
    presence: oneOf(o.presence, ['present', 'missing', 'unknown'], 'presence'),
    at: num(o.at, 'at'),
    source: oneOf(o.source, ['event', 'check', 'none'], 'source'),
    manifestOf: strings(o.manifestOf, 'manifestOf'),
    layerOf: strings(o.layerOf, 'layerOf'),
    reported: mapOf(o.reported, numberIn('reported'), 'reported'),
    touched: num(o.touched, 'touched'),
  };
  if (o.sequencer !== undefined) fact.seq = str(o.sequencer, 'sequencer');
  if (o.pendingRemoval !== undefined)
    fact.pendingRemoval = windowOf(o.pendingRemoval, 'pendingRemoval') as PendingRemoval;
  if (o.tags !== undefined) fact.tags = mapOf(o.tags, stringIn('tags'), 'tags');
  return fact;
}

/** A scope's state from its text (format 2). Throws UnreadableStateError on anything else. */
export function decodeState(kind: ScopeKind, json: string): ScopeState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    fail('not JSON');
  }
  const o = obj(parsed, 'not an object');
  return kind === 'repo' ? decodeRepo(o) : decodeFact(o);
}
