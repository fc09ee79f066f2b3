/**
 * RedisWindowStore: the correlation engine's state kept in Redis, applied batch by batch.
 *
 * Why Lua and not MULTI/WATCH. A batch of 10,000 records touches hundreds of repository and
 * digest scopes. With WATCH, every touched key must be watched on one connection before reading,
 * and any write to any of them by a concurrent invocation aborts the whole EXEC with no hint of
 * which key moved, so under load concurrent invocations for a busy repository keep aborting each
 * other (a WATCH retry storm), and the client must hold one connection per transaction. Instead
 * each state value carries a version token; we read everything in one round trip (a read-only
 * script: the batch's dedupe markers and every scope it names), run the pure engine in memory,
 * then send ONE script that checks every version and marker (a compare-and-set across all keys
 * at once), then writes the new states with PEXPIRE, the deadline index, the dedupe markers and
 * the findings outbox. Redis runs a script atomically: other clients see all
 * of it or none of it, the conflict check and the writes cannot interleave with another batch,
 * and the script names the conflicting key so only that batch retries (bounded). It is one
 * round trip whatever the batch size (two with the read), and a connection loss before the
 * script leaves nothing half-written. The scripts are Lua files (lua/, redis-window-scripts.ts)
 * registered with defineCommand, and list every key they touch in KEYS. A large batch may be
 * handed over in parts (stage, redis-window-staged.ts): one read per part, sent as soon as its
 * part is normalised, and still one write. A drain right after a write that left the outbox empty costs nothing.
 *
 * Why a sorted set of deadlines polled every minute, and not chained SQS delays. Windows run up
 * to 2 h but SQS DelaySeconds stops at 900 s, so a 2 h deadline would need a chain of at least 8
 * re-enqueued messages per scope (each a chance to lose or duplicate it, and each one to cancel
 * when the window closes early), or an EventBridge schedule per scope. The deadline of every
 * scope is instead a score in `<prefix>deadlines` (member `repo:<name>` / `blob:<digest>`),
 * written in the same atomic script as the state it belongs to, so state and deadline can never
 * disagree. A scheduled window-check (every minute in AWS, every second locally) reads the due
 * members with one bounded ZRANGEBYSCORE; precision is the poll interval, which is small next
 * to windows of minutes to hours, and a missed poll only delays a finding, never loses it.
 *
 * Keys (all under the prefix, each with a TTL): `repo:<name>` and `blob:<digest>` hold
 * `{"v":"<write token>","format":2,"state":<state>}` (readable ASCII JSON, window-state-codec.ts)
 * and expire a margin after their deadline (at least `stateTtlMs`, window plus margin, after their
 * last write). Dedupe markers of delivered events are short hashes of their dedupe keys in one
 * set per hour of arrival, `seen:<hour>` (SMISMEMBER to test,
 * SADD to mark: two commands per batch instead of one key per event), kept `dedupeTtlSeconds`
 * past their hour. `deadlines` and `outbox` are refreshed on every write. Findings go to the
 * outbox list in the same script as the state that reported them, and leave it only once
 * published (drainOutbox).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  closeDue,
  type EngineConfig,
  type EngineOutput,
  applyEvent as runEngine,
} from '../domain/engine.ts';
import { PushGuardError } from '../domain/errors.ts';
import type { Finding } from '../domain/types.ts';
import type { WindowStore } from '../ports.ts';
import { drainOutbox } from './redis-window-outbox.ts';
import { decodeScopes, loadWithFacts, type Plan, planWrite, stateOf } from './redis-window-plan.ts';
import {
  ID_WIDTH,
  type ReadReply,
  type WindowScripts,
  windowScripts,
} from './redis-window-scripts.ts';
import {
  type ApplyResult,
  dropSeen,
  type FirstRead,
  type Prepared,
  prepare,
  StagedBatch,
  type StagingStore,
} from './redis-window-staged.ts';
import { type ScopeId, scopesOfEvents, type WindowEvent } from './window-scopes.ts';

/**
 * Harbor retries a webhook up to 10 times with gocraft/work's backoff `f^4 + 15 + rand(0..29)(f+1)`
 * seconds: about 3 h on average and up to ~4.7 h. Six hours covers the whole retry horizon.
 */
const DEFAULT_DEDUPE_TTL_SECONDS = 6 * 3600;
const DEFAULT_OUTBOX_TTL_SECONDS = 7 * 24 * 3600;
/** Format of an outbox entry (`{"format":1,"e":<entry id>,"finding":<finding>}`). */
const OUTBOX_FORMAT = 1;

export interface RedisWindowStoreOptions {
  /** A client from redis-client.ts (offline queue off). */
  redis: Redis;
  /** @default 'pushguard:' */
  prefix?: string;
  engine: EngineConfig;
  /** How long a delivered event's dedupe marker lives. @default 21600 (6 h) */
  dedupeTtlSeconds?: number;
  /**
   * Window plus margin: a scope's state expires `stateTtlMs - windowMs` after its deadline, and
   * never sooner than `stateTtlMs` after its last write. @default windowMs + 30 min
   */
  stateTtlMs?: number;
  /** Attempts of a batch when another invocation raced on the same scope. @default 8 */
  maxAttempts?: number;
  /** Due scopes closed per page in closeDue. @default 500 */
  closePageSize?: number;
  /** Pages closed per closeDue call. @default 20 */
  maxClosePages?: number;
  /** Outbox entries published per drain page. @default 100 */
  drainPageSize?: number;
  /** Lease of one drainer on the outbox, ms. @default 60000 */
  drainLeaseMs?: number;
  /** The outbox is kept this long after its last write. @default 7 days */
  outboxTtlSeconds?: number;
}

/** Another invocation kept changing the same scopes; the batch was not applied (retry later). */
export class StateConflictError extends PushGuardError {
  readonly key: string;
  constructor(key: string, attempts: number) {
    super(`state of ${key} changed concurrently ${attempts} times; batch not applied`);
    this.key = key;
  }
}

/** The dedupe buckets of one call, and their cardinalities as the read saw them. */
interface Buckets {
  keys: string[];
  ttlMs: number;
  cards: number[];
}

class RedisWindowStore implements WindowStore, StagingStore {
  readonly prefix: string;
  private readonly redis: Redis;
  private readonly scripts: WindowScripts;
  private readonly engine: EngineConfig;
  private readonly dedupeTtlSeconds: number;
  private readonly bucketMs: number;
  private readonly stateTtlMs: number;
  private readonly maxAttempts: number;
  private readonly closePageSize: number;
  private readonly maxClosePages: number;
  private readonly drainPageSize: number;
  private readonly drainLeaseMs: number;
  private readonly outboxTtlSeconds: number;
  /**
   * The last call was a write whose reply found the outbox empty after it: a drain right after it
   * has nothing to publish and needs no round trip. Any other call clears it.
   */
  private outboxEmpty = false;
  private readonly prefixBytes: number;

  constructor(options: RedisWindowStoreOptions) {
    this.redis = options.redis;
    this.scripts = windowScripts(options.redis);
    this.prefix = options.prefix ?? 'pushguard:';
    this.prefixBytes = Buffer.byteLength(this.prefix);
    this.engine = options.engine;
    this.dedupeTtlSeconds = options.dedupeTtlSeconds ?? DEFAULT_DEDUPE_TTL_SECONDS;
    this.bucketMs = Math.max(1000, Math.min(3_600_000, (this.dedupeTtlSeconds * 1000) / 6));
    this.stateTtlMs = options.stateTtlMs ?? options.engine.windowMs + 30 * 60_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.closePageSize = options.closePageSize ?? 500;
    this.maxClosePages = options.maxClosePages ?? 20;
    this.drainPageSize = options.drainPageSize ?? 100;
    this.drainLeaseMs = options.drainLeaseMs ?? 60_000;
    this.outboxTtlSeconds = options.outboxTtlSeconds ?? DEFAULT_OUTBOX_TTL_SECONDS;
    if (this.stateTtlMs < options.engine.windowMs) {
      throw new RangeError('stateTtlMs must be at least the correlation window');
    }
  }

  /** Applies a batch: dedupe, load, engine, one atomic CAS script; retried on a race. */
  async apply(events: readonly WindowEvent[], now: number): Promise<ApplyResult> {
    this.outboxEmpty = false;
    return this.applyPrepared(prepare(events), now);
  }

  /**
   * A batch handed over in parts (redis-window-staged.ts): the same dedupe, the same scopes in
   * the same order, the engine on every event in order, one atomic CAS write. If `now` moved to
   * other dedupe buckets meanwhile, or the write meets a race, the batch is read again in full.
   */
  stage(now: number): StagedBatch {
    return new StagedBatch(this, this.buckets(now));
  }

  /** @internal for StagedBatch: one window-read of some ids and scopes, sent now. */
  readPart(
    buckets: { keys: string[] },
    ids: string,
    scopes: readonly ScopeId[]
  ): Promise<ReadReply> {
    const keys = [...buckets.keys, ...scopes.map((s) => this.key(s))];
    return this.scripts.read(keys, [buckets.keys.length, ids, ID_WIDTH]);
  }

  /** @internal for StagedBatch: the dedupe buckets live at `now`. */
  bucketsAt(now: number): { keys: string[]; ttlMs: number } {
    return this.buckets(now);
  }

  /** @internal apply() on a prepared batch, the first attempt possibly on reads already made. */
  async applyPrepared(prepared: Prepared, now: number, first?: FirstRead): Promise<ApplyResult> {
    this.outboxEmpty = false;
    const extra = new Set<ScopeId>();
    let conflict = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const result = await this.tryApply(prepared, now, extra, attempt === 1 ? first : undefined);
      if ('output' in result) return result.output;
      conflict = result.conflict;
      await backoff(attempt);
    }
    throw new StateConflictError(conflict, this.maxAttempts);
  }

  /** Closes due windows page by page (bounded), findings into the outbox. */
  async closeDue(now: number): Promise<EngineOutput> {
    this.outboxEmpty = false;
    const output: EngineOutput = { findings: [], checks: [] };
    const done = new Set<ScopeId>();
    for (let page = 0; page < this.maxClosePages; page++) {
      const members = await this.redis.zrangebyscore(
        this.key('deadlines'),
        '-inf',
        now,
        'LIMIT',
        0,
        this.closePageSize
      );
      const todo = members.filter((m) => !done.has(m));
      if (todo.length === 0) break;
      const closed = await this.closeScopes(todo, now);
      output.findings.push(...closed.findings);
      output.checks.push(...closed.checks);
      for (const m of todo) done.add(m);
      if (members.length < this.closePageSize) break;
    }
    return output;
  }

  /**
   * Publishes outbox findings page by page; an entry leaves the outbox only after `publish`
   * resolved. A failing publish leaves its page in place (and rethrows); a concurrent drainer
   * holding the lease makes this call return what it published so far.
   */
  async drainOutbox(publish: (findings: Finding[]) => Promise<void>): Promise<Finding[]> {
    if (this.outboxEmpty) {
      this.outboxEmpty = false;
      return [];
    }
    const keys = { lease: this.key('outbox:lease'), outbox: this.key('outbox') };
    const options = { leaseMs: this.drainLeaseMs, pageSize: this.drainPageSize };
    return drainOutbox(this.scripts, keys, options, publish);
  }

  /** Number of findings waiting in the outbox. */
  async outboxLength(): Promise<number> {
    this.outboxEmpty = false;
    return this.redis.llen(this.key('outbox'));
  }

  private key(suffix: string): string {
    return `${this.prefix}${suffix}`;
  }

  private async tryApply(
    prepared: Prepared,
    now: number,
    extra: Set<ScopeId>,
    first?: FirstRead
  ): Promise<{ output: ApplyResult } | { conflict: string }> {
    // (1) one round trip: which events were already applied, and every scope the batch names
    // (unless a staged batch read them already).
    const buckets = this.buckets(now);
    const scopes = first?.scopes ?? [...scopesOfEvents(prepared.fresh, new Set(extra))];
    const [seenIndexes, raws, cards] =
      first?.reply ?? (await this.readPart(buckets, prepared.ids, scopes));
    const loaded = decodeScopes(scopes, raws);

    // (2) the engine, in memory, on the partial state, for the events not applied before.
    const { fresh, ids } = dropSeen(prepared, seenIndexes);
    const state = stateOf(loaded);
    const output: ApplyResult = {
      findings: [],
      checks: [],
      duplicates: prepared.count - fresh.length,
    };
    for (const event of fresh) {
      const out = runEngine(state, event, now, this.engine);
      if (out.findings.length > 0) output.findings.push(...out.findings);
      if (out.checks.length > 0) output.checks.push(...out.checks);
    }

    // (3) one atomic script: CAS every scope, write, index, mark seen, append findings.
    const plan = this.plan({ state, loaded, due: new Set(), extra, now });
    if (plan.changes === 0 && ids.length === 0 && output.findings.length === 0) {
      return { output };
    }
    const result = await this.commit(plan, { ...buckets, cards }, ids, output.findings);
    return result === true ? { output } : { conflict: result };
  }

  private plan(
    input: Pick<Parameters<typeof planWrite>[0], 'state' | 'loaded' | 'due' | 'extra' | 'now'>
  ): Plan {
    return planWrite({
      ...input,
      engine: this.engine,
      stateTtlMs: this.stateTtlMs,
      key: (id) => this.key(id),
      token: randomBytes(9).toString('base64url'),
    });
  }

  /** Dedupe buckets that can hold a marker still live at `now`; the last one is `now`'s. */
  private buckets(now: number): { keys: string[]; ttlMs: number } {
    const size = this.bucketMs;
    const current = Math.floor(now / size);
    const oldest = Math.floor((now - this.dedupeTtlSeconds * 1000) / size);
    const keys: string[] = [];
    for (let i = oldest; i <= current; i++) keys.push(this.key(`seen:${i}`));
    return { keys, ttlMs: Math.ceil((current + 1) * size + this.dedupeTtlSeconds * 1000 - now) };
  }

  private async closeScopes(members: string[], now: number): Promise<EngineOutput> {
    const extra = new Set<ScopeId>();
    let conflict = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const due = new Set(members);
      const ids = [...new Set([...members, ...extra])];
      const loaded = await loadWithFacts(
        ids,
        (keys) => this.redis.mget(keys),
        (id) => this.key(id)
      );
      const state = stateOf(loaded);
      const output = closeDue(state, now, this.engine);
      const plan = this.plan({ state, loaded, due, extra, now });
      const noBuckets: Buckets = { keys: [], ttlMs: 0, cards: [] };
      const result = await this.commit(plan, noBuckets, '', output.findings);
      if (result === true) return output;
      conflict = result;
      await backoff(attempt);
    }
    throw new StateConflictError(conflict, this.maxAttempts);
  }

  /** Runs window-apply.lua; true when applied, else the key that moved. */
  private async commit(
    plan: Plan,
    buckets: Buckets,
    ids: string,
    findings: Finding[]
  ): Promise<true | string> {
    const entries = findings.map((finding) =>
      JSON.stringify({ format: OUTBOX_FORMAT, e: randomBytes(9).toString('base64url'), finding })
    );
    const keys = [this.key('deadlines'), this.key('outbox'), ...plan.keys, ...buckets.keys];
    const args = [
      plan.keys.length,
      buckets.keys.length,
      plan.maxTtl,
      buckets.ttlMs,
      this.outboxTtlSeconds,
      entries.length,
      this.prefixBytes,
      ID_WIDTH,
      ...buckets.cards,
      ...plan.args,
      ...entries,
      ids,
    ];
    const reply = await this.scripts.apply(keys, args);
    if (reply[0] !== 1) return String(reply[1] ?? '?');
    this.outboxEmpty = reply[1] === 0;
    return true;
  }
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(5 * 2 ** attempt, 200);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { type ApplyResult, RedisWindowStore, type StagedBatch };
