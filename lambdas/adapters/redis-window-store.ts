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
 * script leaves nothing half-written. Scripts are sent with EVALSHA (SCRIPT LOAD on NOSCRIPT),
 * and list every key they touch in KEYS. A large batch may be handed over in parts (stage): the
 * read is then one READ per part, each sent as soon as its part is normalised, and the write is
 * still the one script. A drain right after a write that left the outbox empty costs nothing.
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
 * `{"v":"<version>","s":<state>}` (ASCII JSON; a blob fact by position, see factToStored) and
 * expire a margin after their deadline (at least `stateTtlMs`, window plus margin, after their
 * last write). Dedupe markers of delivered events are short
 * hashes of their dedupe keys in one set per hour of arrival, `seen:<hour>` (SMISMEMBER to test,
 * SADD to mark: two commands per batch instead of one key per event), kept `dedupeTtlSeconds`
 * past their hour. `deadlines` and `outbox` are refreshed on every write. Findings go to the
 * outbox list in the same script as the state that reported them, and leave it only once
 * published (drainOutbox).
 */
import { createHash, hash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  type BlobFact,
  closeDue,
  digestsOfRepo,
  type EngineConfig,
  type EngineOutput,
  type EngineState,
  factDeadline,
  factRetentionMs,
  forEachScope,
  type RepoState,
  repoDeadline,
  applyEvent as runEngine,
} from '../domain/engine.ts';
import { PushGuardError } from '../domain/errors.ts';
import type { Finding } from '../domain/types.ts';
import type { WindowStore } from '../ports.ts';
import {
  blobScope,
  parseScope,
  repoScope,
  type ScopeId,
  scopesOfEvents,
  scopeTtlMs,
  type WindowEvent,
} from './window-scopes.ts';

/**
 * Harbor retries a webhook up to 10 times with gocraft/work's backoff `f^4 + 15 + rand(0..29)(f+1)`
 * seconds: about 3 h on average and up to ~4.7 h. Six hours covers the whole retry horizon.
 */
const DEFAULT_DEDUPE_TTL_SECONDS = 6 * 3600;
const DEFAULT_OUTBOX_TTL_SECONDS = 7 * 24 * 3600;
/** Characters of a dedupe id (base64url, so 6 bits each). */
const ID_WIDTH = 22;

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

export interface ApplyResult extends EngineOutput {
  /** Events dropped as redeliveries (already applied, or twice in the batch). */
  duplicates: number;
}

/**
 * Read of step (1). KEYS: b dedupe buckets, then n scope keys. ARGV: b, then the batch's dedupe
 * ids packed end to end (ID_WIDTH characters each: one argument instead of thousands). Returns
 * {indexes (1-based) of ids already marked, values of the scope keys, SCARD of each bucket}.
 * unpack() goes in chunks (Lua's C stack holds ~8000 values).
 */
const READ_LUA = `
local b = tonumber(ARGV[1])
local packed = ARGV[2]
local w = ${ID_WIDTH}
local ids = {}
local seen = {}
local cards = {}
for k = 1, b do
  local card = redis.call('SCARD', KEYS[k])
  cards[k] = card
  if card > 0 and #packed > 0 then
    if #ids == 0 then
      for i = 1, #packed / w do ids[i] = string.sub(packed, (i - 1) * w + 1, i * w) end
    end
    for s = 1, #ids, 4000 do
      local flags = redis.call('SMISMEMBER', KEYS[k], unpack(ids, s, math.min(s + 3999, #ids)))
      for i = 1, #flags do
        if flags[i] == 1 then seen[#seen + 1] = s + i - 1 end
      end
    end
  end
end
local values = {}
for s = b + 1, #KEYS, 4000 do
  local chunk = redis.call('MGET', unpack(KEYS, s, math.min(s + 3999, #KEYS)))
  for i = 1, #chunk do values[#values + 1] = chunk[i] end
end
return {seen, values, cards}
`;

/**
 * CAS-and-write of step (3). KEYS: deadlines, outbox, n scope keys, b dedupe buckets (the last is
 * the current one). ARGV: n, b, longest scope TTL (ms; the deadline index lives at least that
 * long), bucket TTL (ms), outboxTtlSeconds, f (findings), the prefix's length in bytes (a scope
 * key minus the prefix is its deadline-index member), then b bucket cardinalities as READ_LUA
 * saw them, then 5 per scope (expected version, op, value, deadline, TTL ms), then f outbox
 * entries, then the dedupe ids packed as in READ_LUA. Ops: w = write and index
 * its deadline, d = delete and unindex, z = keep value and index its deadline, k = only check the
 * version. Nothing is written unless every version is as read and no id was marked meanwhile:
 * the reply is {0, what moved}, else {1, outbox length after the write}. Markers are only ever added to a bucket (or the whole bucket
 * expires), so a bucket whose cardinality is as read holds no new marker: only a bucket that
 * changed is searched for the batch's ids again.
 */
const APPLY_LUA = `
local n = tonumber(ARGV[1])
local b = tonumber(ARGV[2])
local f = tonumber(ARGV[6])
local plen = tonumber(ARGV[7])
local base = 7 + b
local packed = ARGV[base + n * 5 + f + 1]
local w = ${ID_WIDTH}
local m = #packed / w
for s = 1, n, 4000 do
  local e = math.min(s + 3999, n)
  local values = redis.call('MGET', unpack(KEYS, 2 + s, 2 + e))
  for i = s, e do
    local cur = values[i - s + 1]
    local v = ''
    if cur then v = string.match(cur, '^{"v":"([^"]*)"') or '?' end
    if v ~= ARGV[base + (i - 1) * 5 + 1] then return {0, KEYS[2 + i]} end
  end
end
local ids = nil
local function split()
  if ids == nil then
    ids = {}
    for i = 1, m do ids[i] = string.sub(packed, (i - 1) * w + 1, i * w) end
  end
  return ids
end
if m > 0 then
  for k = 1, b do
    local bucket = KEYS[2 + n + k]
    if redis.call('SCARD', bucket) ~= tonumber(ARGV[7 + k]) then
      split()
      for s = 1, m, 4000 do
        local flags = redis.call('SMISMEMBER', bucket, unpack(ids, s, math.min(s + 3999, m)))
        for i = 1, #flags do
          if flags[i] == 1 then return {0, bucket} end
        end
      end
    end
  end
end
local zadd = {}
local zrem = {}
for i = 1, n do
  local a = base + (i - 1) * 5
  local op = ARGV[a + 2]
  if op == 'w' then
    redis.call('SET', KEYS[2 + i], ARGV[a + 3], 'PX', ARGV[a + 5])
  elseif op == 'd' then
    redis.call('DEL', KEYS[2 + i])
  end
  if op ~= 'k' then
    local member = string.sub(KEYS[2 + i], plen + 1)
    if ARGV[a + 4] == '' then
      zrem[#zrem + 1] = member
    else
      zadd[#zadd + 1] = ARGV[a + 4]
      zadd[#zadd + 1] = member
    end
  end
end
for s = 1, #zadd, 4000 do
  redis.call('ZADD', KEYS[1], unpack(zadd, s, math.min(s + 3999, #zadd)))
end
for s = 1, #zrem, 4000 do
  redis.call('ZREM', KEYS[1], unpack(zrem, s, math.min(s + 3999, #zrem)))
end
local maxTtl = tonumber(ARGV[3])
if maxTtl > 0 and redis.call('PTTL', KEYS[1]) < maxTtl then
  redis.call('PEXPIRE', KEYS[1], maxTtl)
end
if m > 0 then
  local current = KEYS[2 + n + b]
  split()
  for s = 1, m, 4000 do
    redis.call('SADD', current, unpack(ids, s, math.min(s + 3999, m)))
  end
  if redis.call('PTTL', current) < tonumber(ARGV[4]) then
    redis.call('PEXPIRE', current, ARGV[4])
  end
end
local first = base + n * 5 + 1
for k = first, first + f - 1 do
  redis.call('RPUSH', KEYS[2], ARGV[k])
end
if f > 0 then redis.call('EXPIRE', KEYS[2], ARGV[5]) end
return {1, redis.call('LLEN', KEYS[2])}
`;

/**
 * KEYS: lock, outbox. ARGV: token, leaseMs, count. Returns the first entries under a lease, an
 * empty list (no lease taken) when the outbox is empty, or false when another drainer holds it.
 */
const DRAIN_LEASE_LUA = `
if redis.call('LLEN', KEYS[2]) == 0 then return {} end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[3]) - 1)
`;

/**
 * KEYS: lock, outbox. ARGV: token, then the published entries in order. Entries only leave from
 * the head and are unique, so popping each one that is still at the head removes exactly the
 * published ones, even if another drainer already removed some of them.
 */
const DRAIN_ACK_LUA = `
local popped = 0
for i = 2, #ARGV do
  if redis.call('LINDEX', KEYS[2], 0) == ARGV[i] then
    redis.call('LPOP', KEYS[2])
    popped = popped + 1
  end
end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return popped
`;

interface Script {
  source: string;
  sha: string;
}

/** READ_LUA's reply: 1-based indexes of ids already marked, scope values, bucket cardinalities. */
type ReadReply = [number[], (string | null)[], number[]];

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const READ = script(READ_LUA);
const APPLY = script(APPLY_LUA);
const DRAIN_LEASE = script(DRAIN_LEASE_LUA);
const DRAIN_ACK = script(DRAIN_ACK_LUA);

const VERSION_RE = /^\{"v":"([^"]*)"/;

interface Loaded {
  /** What the scope id names (undefined for an id that is neither `repo:` nor `blob:`). */
  scope: ReturnType<typeof parseScope>;
  /** Version token as the script reads it: '' absent, '?' unreadable. */
  version: string;
  /** JSON of the state as loaded (to tell unchanged from changed). */
  json?: string;
  value?: unknown;
}

/** The scopes loaded for one attempt, by id and by name (to tell loaded from created ones). */
interface LoadedScopes {
  byId: Map<ScopeId, Loaded>;
  repos: Set<string>;
  blobs: Set<string>;
}

/** A batch ready to apply: first occurrences and their dedupe ids, computed once per batch. */
interface Prepared {
  /** Events in the batch, duplicates included. */
  count: number;
  /** First occurrence of each dedupe key, and every event without one, in order. */
  fresh: WindowEvent[];
  /** Dedupe ids of the first occurrences, in order, packed end to end (ID_WIDTH each). */
  ids: string;
  /** Index in `fresh` of the event of each id. */
  owners: number[];
}

interface Plan {
  keys: string[];
  args: (string | number)[];
  /** Longest TTL written (ms); the deadline index is kept at least that long. */
  maxTtl: number;
}

class RedisWindowStore implements WindowStore {
  readonly prefix: string;
  private readonly redis: Redis;
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
    return this.applyPrepared(prepare(events), now, new Set());
  }

  /**
   * A batch handed over in parts (ingest normalises a large batch part by part): each part's
   * dedupe ids and new scopes are read as soon as it is added, without waiting, so the reads run
   * while the caller prepares the next part. apply() then does exactly what apply(all events)
   * does, on what was read: the same dedupe, the same scopes in the same order, the engine on
   * every event in order, one atomic CAS write. If `now` moved to other dedupe buckets meanwhile,
   * or the write meets a race, the batch is read again in full, as apply() would.
   */
  stage(now: number): StagedBatch {
    return new StagedBatch(this, this.buckets(now));
  }

  /** @internal for StagedBatch: one READ of some ids and scopes, sent now. */
  readPart(
    buckets: { keys: string[] },
    ids: string,
    scopes: readonly ScopeId[]
  ): Promise<ReadReply> {
    return this.evalScript(
      READ,
      [...buckets.keys, ...scopes.map((s) => this.key(s))],
      [buckets.keys.length, ids]
    ) as Promise<ReadReply>;
  }

  /** @internal for StagedBatch: the dedupe buckets live at `now`. */
  bucketsAt(now: number): { keys: string[]; ttlMs: number } {
    return this.buckets(now);
  }

  /** @internal apply() on a prepared batch, the first attempt possibly on reads already made. */
  async applyPrepared(
    prepared: Prepared,
    now: number,
    extra: Set<ScopeId>,
    first?: { scopes: ScopeId[]; reply: ReadReply }
  ): Promise<ApplyResult> {
    this.outboxEmpty = false;
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
    const published: Finding[] = [];
    const lock = this.key('outbox:lease');
    const outbox = this.key('outbox');
    for (;;) {
      const token = randomBytes(9).toString('base64url');
      const entries = (await this.evalScript(
        DRAIN_LEASE,
        [lock, outbox],
        [token, this.drainLeaseMs, this.drainPageSize]
      )) as string[] | null;
      if (!entries || entries.length === 0) return published;
      const findings = uniqueFindings(entries);
      try {
        if (findings.length > 0) await publish(findings);
      } catch (err) {
        await this.evalScript(DRAIN_ACK, [lock, outbox], [token]);
        throw err;
      }
      await this.evalScript(DRAIN_ACK, [lock, outbox], [token, ...entries]);
      published.push(...findings);
      if (entries.length < this.drainPageSize) return published;
    }
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
    first?: { scopes: ScopeId[]; reply: ReadReply }
  ): Promise<{ output: ApplyResult } | { conflict: string }> {
    // (1) one round trip: which events were already applied, and every scope the batch names
    // (unless a staged batch read them already).
    const buckets = this.buckets(now);
    const scopes = first?.scopes ?? [...scopesOfEvents(prepared.fresh, new Set(extra))];
    const [seenIndexes, raws, cards] =
      first?.reply ?? (await this.readPart(buckets, prepared.ids, scopes));
    const loaded = this.decode(scopes, raws);

    // (2) the engine, in memory, on the partial state.
    let fresh = prepared.fresh;
    let freshIds = prepared.ids;
    if (seenIndexes.length > 0) {
      const seen = new Set(seenIndexes.map((i) => i - 1));
      const dropped = new Set([...seen].map((i) => prepared.owners[i]));
      fresh = fresh.filter((_, j) => !dropped.has(j));
      const kept: string[] = [];
      for (let i = 0; i < prepared.owners.length; i++) {
        if (!seen.has(i)) kept.push(freshIds.slice(i * ID_WIDTH, (i + 1) * ID_WIDTH));
      }
      freshIds = kept.join('');
    }
    const duplicates = prepared.count - fresh.length;
    const state = stateOf(loaded);
    const output: ApplyResult = { findings: [], checks: [], duplicates };
    for (const event of fresh) {
      const out = runEngine(state, event, now, this.engine);
      if (out.findings.length > 0) output.findings.push(...out.findings);
      if (out.checks.length > 0) output.checks.push(...out.checks);
    }

    // (3) one atomic script: CAS every scope, write, index, mark seen, append findings.
    const plan = this.plan(state, loaded, new Set(), extra, now);
    if (plan.changes === 0 && freshIds.length === 0 && output.findings.length === 0) {
      return { output };
    }
    const result = await this.commit(plan, { ...buckets, cards }, freshIds, output.findings);
    return result === true ? { output } : { conflict: result };
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
      const scopes = [...new Set([...members, ...extra])];
      const loaded = this.decode(scopes, await this.redis.mget(scopes.map((s) => this.key(s))));
      const related = new Set<ScopeId>();
      for (const [id, l] of loaded.byId) {
        if (parseScope(id)?.kind !== 'repo' || l.value === undefined) continue;
        for (const d of digestsOfRepo(l.value as RepoState)) {
          const b = blobScope(d);
          if (!loaded.byId.has(b)) related.add(b);
        }
      }
      if (related.size > 0) {
        const ids = [...related];
        const more = this.decode(ids, await this.redis.mget(ids.map((s) => this.key(s))));
        for (const [id, l] of more.byId) addLoaded(loaded, id, l);
      }
      const state = stateOf(loaded);
      const output = closeDue(state, now, this.engine);
      const plan = this.plan(state, loaded, due, extra, now);
      const result = await this.commit(
        plan,
        { keys: [], ttlMs: 0, cards: [] },
        '',
        output.findings
      );
      if (result === true) return output;
      conflict = result;
      await backoff(attempt);
    }
    throw new StateConflictError(conflict, this.maxAttempts);
  }

  private decode(ids: readonly ScopeId[], raws: readonly (string | null)[]): LoadedScopes {
    const loaded: LoadedScopes = { byId: new Map(), repos: new Set(), blobs: new Set() };
    ids.forEach((id, i) => {
      const raw = raws[i];
      const scope = parseScope(id);
      if (raw == null) {
        addLoaded(loaded, id, { scope, version: '' });
        return;
      }
      const version = VERSION_RE.exec(raw)?.[1] ?? '?';
      const head = `{"v":"${version}","s":`;
      try {
        if (!raw.startsWith(head) || !raw.endsWith('}')) throw new SyntaxError('not a state');
        // The state's JSON exactly as this store wrote it: compared as text, parsed once.
        const json = raw.slice(head.length, -1);
        const parsed: unknown = JSON.parse(json);
        const value = scope?.kind === 'blob' ? factFromStored(parsed) : parsed;
        addLoaded(loaded, id, { scope, version, value, json });
      } catch {
        // Unreadable: treated as absent, and overwritten by the CAS on its version.
        addLoaded(loaded, id, { scope, version });
      }
    });
    return loaded;
  }

  /**
   * Builds the script's scope arguments. Every loaded scope is version-checked; changed ones are
   * written or deleted; `due` members have their index entry refreshed even if unchanged. Scopes
   * the engine created without loading them are checked as absent and remembered in `extra`.
   */
  private plan(
    state: EngineState,
    loaded: LoadedScopes,
    due: ReadonlySet<ScopeId>,
    extra: Set<ScopeId>,
    now: number
  ): Plan & { changes: number } {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    const W = this.engine.windowMs;
    const retention = factRetentionMs(this.engine);
    const margin = this.stateTtlMs - W;
    const version = randomBytes(9).toString('base64url');
    let changes = 0;
    let maxTtl = 0;
    const visit = (
      id: ScopeId,
      value: unknown,
      deadline: number | undefined,
      before?: Loaded,
      fact?: boolean
    ) => {
      if (!before) extra.add(id);
      const was = before?.version ?? '';
      const json =
        value === undefined ? undefined : asciiJson(fact ? factToStored(value as BlobFact) : value);
      let op: 'w' | 'd' | 'z' | 'k';
      if (json === undefined) op = was === '' && !due.has(id) ? 'k' : 'd';
      else if (json !== before?.json) op = 'w';
      else op = due.has(id) ? 'z' : 'k';
      if (op !== 'k') changes++;
      const indexed = json === undefined ? undefined : deadline;
      const ttl = scopeTtlMs(indexed, now, W, margin);
      if (op === 'w' || op === 'z') maxTtl = Math.max(maxTtl, ttl);
      keys.push(this.key(id));
      args.push(was, op, op === 'w' ? `{"v":"${version}","s":${json}}` : '', indexed ?? '', ttl);
    };
    // Loaded scopes first (in load order), then those the engine created, repositories first.
    for (const [id, l] of loaded.byId) {
      const scope = l.scope;
      if (scope?.kind === 'repo') {
        const repo = state.repos[scope.name];
        visit(id, repo, repo && repoDeadline(repo, W), l);
      } else if (scope?.kind === 'blob') {
        const fact = state.blobs[scope.name];
        visit(id, fact, fact && factDeadline(fact, retention), l, true);
      } else visit(id, undefined, undefined, l);
    }
    for (const name in state.repos) {
      if (loaded.repos.has(name)) continue;
      const repo = state.repos[name]!;
      visit(repoScope(name), repo, repoDeadline(repo, W));
    }
    for (const digest in state.blobs) {
      if (loaded.blobs.has(digest)) continue;
      const fact = state.blobs[digest]!;
      visit(blobScope(digest), fact, factDeadline(fact, retention), undefined, true);
    }
    return { keys, args, changes, maxTtl };
  }

  /** Runs the CAS script; true when applied, else the key that moved. */
  private async commit(
    plan: Plan,
    buckets: { keys: string[]; ttlMs: number; cards: number[] },
    ids: string,
    findings: Finding[]
  ): Promise<true | string> {
    const entries = findings.map((finding) =>
      JSON.stringify({ e: randomBytes(9).toString('base64url'), finding })
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
      ...buckets.cards,
      ...plan.args,
      ...entries,
      ids,
    ];
    const reply = (await this.evalScript(APPLY, keys, args)) as [number, (string | number)?];
    if (reply[0] !== 1) return String(reply[1] ?? '?');
    this.outboxEmpty = reply[1] === 0;
    return true;
  }

  /** EVALSHA; on NOSCRIPT (new or restarted server), SCRIPT LOAD of all scripts and EVALSHA again. */
  private async evalScript(s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    const argv = [s.sha, keys.length, ...keys, ...args];
    try {
      return await this.redis.call('evalsha', argv);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      const load = this.redis.pipeline();
      for (const each of [READ, APPLY, DRAIN_LEASE, DRAIN_ACK])
        load.call('script', 'load', each.source);
      await execPipeline(load);
      return this.redis.call('evalsha', argv);
    }
  }
}

async function execPipeline(pipeline: ReturnType<Redis['pipeline']>): Promise<(string | null)[][]> {
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value as (string | null)[];
  });
}

/** A batch added part by part, each part's reads sent at once (RedisWindowStore.stage). */
class StagedBatch {
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
    private readonly store: RedisWindowStore,
    private readonly buckets: { keys: string[] }
  ) {}

  /** Dedupes the part against the batch so far and sends the READ of what is new in it. */
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
    if (!same || replies.length === 0) return this.store.applyPrepared(prepared, now, new Set());
    // One READ's worth: indexes shifted to the whole batch, values in scope order, and the
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
    return this.store.applyPrepared(prepared, now, new Set(), { scopes: this.scopes, reply });
  }
}

/**
 * First occurrences and their dedupe ids. The in-batch dedupe compares ids (as the markers do)
 * rather than whole dedupe keys: each key is hashed once, and the set holds short strings.
 */
function prepare(events: readonly WindowEvent[]): Prepared {
  const fresh: WindowEvent[] = [];
  const ids: string[] = [];
  const owners: number[] = [];
  // ids die here: the batch keeps them as one packed string
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

function addLoaded(loaded: LoadedScopes, id: ScopeId, l: Loaded): void {
  loaded.byId.set(id, l);
  if (l.scope?.kind === 'repo') loaded.repos.add(l.scope.name);
  else if (l.scope?.kind === 'blob') loaded.blobs.add(l.scope.name);
}

/** The partial engine state holding exactly the loaded scopes that have a value, in load order. */
function stateOf(loaded: LoadedScopes): EngineState {
  const state: EngineState = { repos: {}, blobs: {} };
  for (const l of loaded.byId.values()) {
    if (l.value === undefined || !l.scope) continue;
    if (l.scope.kind === 'repo') state.repos[l.scope.name] = l.value as RepoState;
    else state.blobs[l.scope.name] = l.value as BlobFact;
  }
  return state;
}

/**
 * A blob fact as stored: its usual fields by position, `[presence, at, source, manifestOf,
 * layerOf, reported, touched, seq or 0]`, then an object with any other field it has
 * (pendingRemoval, tags...) when there is one. Facts are most of the scopes a batch writes: this
 * is under half the bytes of the object with its field names. Plain JSON all the same.
 */
const FACT_POSITIONS = new Set([
  'presence',
  'at',
  'source',
  'manifestOf',
  'layerOf',
  'reported',
  'touched',
  'seq',
]);

function factToStored(f: BlobFact): unknown[] {
  const stored: unknown[] = [
    f.presence,
    f.at,
    f.source,
    f.manifestOf,
    f.layerOf,
    f.reported,
    f.touched,
    f.seq ?? 0,
  ];
  let rest: Record<string, unknown> | undefined;
  for (const field in f) {
    const value = (f as unknown as Record<string, unknown>)[field];
    if (!FACT_POSITIONS.has(field) && value !== undefined) {
      rest ??= {};
      rest[field] = value;
    }
  }
  if (rest) stored.push(rest);
  return stored;
}

/** The fact factToStored stored (a value in another shape is taken as it is). */
function factFromStored(stored: unknown): unknown {
  if (!Array.isArray(stored)) return stored;
  const fact: Record<string, unknown> = {
    presence: stored[0],
    at: stored[1],
    source: stored[2],
    manifestOf: stored[3],
    layerOf: stored[4],
    reported: stored[5],
    touched: stored[6],
  };
  if (stored[7] !== 0) fact.seq = stored[7];
  if (stored.length > 8) Object.assign(fact, stored[8]);
  return fact;
}

const NON_ASCII = /[\u0080-\uffff]/g;

/**
 * JSON with every non-ASCII character escaped (`…` as `\u2026`): parses to the same value, and
 * keeps the script's arguments one-byte text (a single `…` in one state would otherwise make the
 * whole request a two-byte string to flatten and re-encode).
 */
function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) === json.length) return json;
  return json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A short, fixed-size stand-in for a dedupe key (132 bits of its SHA-256, base64url). */
function dedupeId(dedupeKey: string): string {
  return hash('sha256', dedupeKey, 'base64url').slice(0, ID_WIDTH);
}

function uniqueFindings(entries: readonly string[]): Finding[] {
  const byId = new Map<string, Finding>();
  for (const entry of entries) {
    try {
      const finding = (JSON.parse(entry) as { finding: Finding }).finding;
      if (finding && !byId.has(finding.id)) byId.set(finding.id, finding);
    } catch {
      // An entry this store did not write: dropped with the page rather than blocking the outbox.
    }
  }
  return [...byId.values()];
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(5 * 2 ** attempt, 200);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { RedisWindowStore, type StagedBatch };
