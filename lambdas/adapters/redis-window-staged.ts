/**
 * A batch handed to RedisWindowStore part by part (ingest normalises a large batch part by part):
 * each part's dedupe ids and new scopes are read as soon as it is added, without waiting, so the
 * reads run while the caller prepares the next part. apply() then does exactly what
 * apply(all events) does, on what was read.
 */
import { hash } from 'node:crypto';
import type { EngineOutput } from '../domain/engine.ts';
import { forEachScope } from '../domain/engine.ts';
import { ID_WIDTH, type ReadReply } from './redis-window-scripts.ts';
import { blobScope, repoScope, type ScopeId, type WindowEvent } from './window-scopes.ts';

export interface ApplyResult extends EngineOutput {
  /** Events dropped as redeliveries (already applied, or twice in the batch). */
  duplicates: number;
}

/** A batch ready to apply: first occurrences and their dedupe ids, computed once per batch. */
export interface Prepared {
  /** Events in the batch, duplicates included. */
  count: number;
  /** First occurrence of each dedupe key, and every event without one, in order. */
  fresh: WindowEvent[];
  /** Dedupe ids of the first occurrences, in order, packed end to end (ID_WIDTH each). */
  ids: string;
  /** Index in `fresh` of the event of each id. */
  owners: number[];
}

/** Reads already made for the first attempt of a staged batch. */
export interface FirstRead {
  scopes: ScopeId[];
  reply: ReadReply;
}

/** What a staged batch needs from its store. */
export interface StagingStore {
  /** One window-read of some ids and scopes, sent now. */
  readPart(
    buckets: { keys: string[] },
    ids: string,
    scopes: readonly ScopeId[]
  ): Promise<ReadReply>;
  /** The dedupe buckets live at `now`. */
  bucketsAt(now: number): { keys: string[]; ttlMs: number };
  applyPrepared(prepared: Prepared, now: number, first?: FirstRead): Promise<ApplyResult>;
}

/** A short, fixed-size stand-in for a dedupe key (132 bits of its SHA-256, base64url). */
export function dedupeId(dedupeKey: string): string {
  return hash('sha256', dedupeKey, 'base64url').slice(0, ID_WIDTH);
}

/**
 * First occurrences and their dedupe ids. The in-batch dedupe compares ids (as the markers do)
 * rather than whole dedupe keys: each key is hashed once, and the set holds short strings.
 */
export function prepare(events: readonly WindowEvent[]): Prepared {
  const fresh: WindowEvent[] = [];
  const ids: string[] = [];
  const owners: number[] = [];
  const inBatch = new Set<string>();
  for (const event of events) {
    const key = 'dedupeKey' in event ? event.dedupeKey : undefined;
    if (key === undefined) {
      fresh.push(event);
      continue;
    }
    const id = dedupeId(key);
    if (inBatch.has(id)) continue;
    inBatch.add(id);
    ids.push(id);
    owners.push(fresh.length);
    fresh.push(event);
  }
  return { count: events.length, fresh, ids: ids.join(''), owners };
}

/** The batch without the events the read found already applied (and their ids). */
export function dropSeen(
  prepared: Prepared,
  seenIndexes: readonly number[]
): { fresh: WindowEvent[]; ids: string } {
  if (seenIndexes.length === 0) return { fresh: prepared.fresh, ids: prepared.ids };
  const seen = new Set(seenIndexes.map((i) => i - 1));
  const dropped = new Set([...seen].map((i) => prepared.owners[i]));
  const fresh = prepared.fresh.filter((_, j) => !dropped.has(j));
  const kept: string[] = [];
  for (let i = 0; i < prepared.owners.length; i++) {
    if (!seen.has(i)) kept.push(prepared.ids.slice(i * ID_WIDTH, (i + 1) * ID_WIDTH));
  }
  return { fresh, ids: kept.join('') };
}

export class StagedBatch {
  private readonly all: WindowEvent[] = [];
  private readonly fresh: WindowEvent[] = [];
  private readonly ids: string[] = [];
  private readonly owners: number[] = [];
  private readonly inBatch = new Set<string>();
  private readonly scopes: ScopeId[] = [];
  private readonly repos = new Set<string>();
  private readonly digests = new Set<string>();
  private readonly reads: { ids: number; scopes: number; reply: Promise<ReadReply> }[] = [];

  constructor(
    private readonly store: StagingStore,
    private readonly buckets: { keys: string[] }
  ) {}

  /** Dedupes the part against the batch so far and sends the read of what is new in it. */
  add(events: readonly WindowEvent[]): void {
    const idsFrom = this.ids.length;
    const scopesFrom = this.scopes.length;
    const onRepository = (name: string) => {
      if (this.repos.has(name)) return;
      this.repos.add(name);
      this.scopes.push(repoScope(name));
    };
    const onDigest = (digest: string) => {
      if (this.digests.has(digest)) return;
      this.digests.add(digest);
      this.scopes.push(blobScope(digest));
    };
    for (const event of events) {
      this.all.push(event);
      const key = 'dedupeKey' in event ? event.dedupeKey : undefined;
      if (key !== undefined) {
        const id = dedupeId(key);
        if (this.inBatch.has(id)) continue;
        this.inBatch.add(id);
        this.ids.push(id);
        this.owners.push(this.fresh.length);
      }
      this.fresh.push(event);
      forEachScope(event, onRepository, onDigest);
    }
    const ids = this.ids.length - idsFrom;
    const scopes = this.scopes.length - scopesFrom;
    if (ids === 0 && scopes === 0) return;
    const reply = this.store.readPart(
      this.buckets,
      this.ids.slice(idsFrom).join(''),
      this.scopes.slice(scopesFrom)
    );
    reply.catch(() => undefined); // awaited (and thrown) by apply()
    this.reads.push({ ids, scopes, reply });
  }

  /** apply() of every event added, on the reads already made when they still hold. */
  async apply(now: number): Promise<ApplyResult> {
    const prepared: Prepared = {
      count: this.all.length,
      fresh: this.fresh,
      ids: this.ids.join(''),
      owners: this.owners,
    };
    const replies = await Promise.all(this.reads.map((r) => r.reply));
    const current = this.store.bucketsAt(now).keys;
    const same =
      current.length === this.buckets.keys.length &&
      current.every((k, i) => k === this.buckets.keys[i]);
    if (!same || replies.length === 0) return this.store.applyPrepared(prepared, now);
    // One read's worth: indexes shifted to the whole batch, values in scope order, and the
    // cardinalities of the first read (any marker added since makes the write search again).
    const seen: number[] = [];
    const raws: (string | null)[] = [];
    let idsBefore = 0;
    replies.forEach(([partSeen, partRaws], i) => {
      for (const index of partSeen) seen.push(idsBefore + index);
      for (const raw of partRaws) raws.push(raw);
      idsBefore += this.reads[i]!.ids;
    });
    const reply: ReadReply = [seen, raws, replies[0]![2]];
    return this.store.applyPrepared(prepared, now, { scopes: this.scopes, reply });
  }
}
