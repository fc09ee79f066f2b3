/**
 * MemoryWindowStore: the same semantics as RedisWindowStore, in process memory, for replay-like
 * uses and unit tests. Each scope is stored as the text RedisWindowStore stores
 * (window-state-codec.ts) and decoded into a partial engine state per call (so a state that does
 * not survive the codec behaves the same in both stores); a call runs
 * synchronously between loading and committing, which makes it atomic in one process. TTLs,
 * dedupe markers, the deadline index and the outbox follow the caller's `now`, not wall time.
 */
import {
  closeDue,
  digestsOfRepo,
  type EngineConfig,
  type EngineOutput,
  type RepoState,
  applyEvent as runEngine,
} from '../domain/engine.ts';
import type { Finding } from '../domain/types.ts';
import type { StagedWindowBatch, WindowStore } from '../ports.ts';
import {
  blobScope,
  deadlineIndex,
  dropDuplicates,
  parseScope,
  partialState,
  type ScopeId,
  scopesInState,
  scopesOfEvents,
  scopeTtlMs,
  scopeValue,
  type WindowEvent,
} from './window-scopes.ts';
import { decodeState, encodeState, type ScopeState } from './window-state-codec.ts';

export interface MemoryWindowStoreOptions {
  engine: EngineConfig;
  /** @default 21600 (6 h), as RedisWindowStore */
  dedupeTtlSeconds?: number;
  /** Window plus margin, as RedisWindowStore. @default windowMs + 30 min */
  stateTtlMs?: number;
  /** Outbox entries published per drain page. @default 100 */
  drainPageSize?: number;
}

interface Stored {
  json: string;
  expiresAt: number;
}

interface Entry {
  e: number;
  finding: Finding;
}

class MemoryWindowStore implements WindowStore {
  private readonly engine: EngineConfig;
  private readonly dedupeTtlMs: number;
  private readonly stateTtlMs: number;
  private readonly drainPageSize: number;
  private readonly values = new Map<ScopeId, Stored>();
  private readonly deadlines = new Map<ScopeId, number>();
  private readonly seen = new Map<string, number>();
  private outbox: Entry[] = [];
  private nextEntry = 0;
  private draining = false;
  private lastNow = 0;

  constructor(options: MemoryWindowStoreOptions) {
    this.engine = options.engine;
    this.dedupeTtlMs = (options.dedupeTtlSeconds ?? 6 * 3600) * 1000;
    this.stateTtlMs = options.stateTtlMs ?? options.engine.windowMs + 30 * 60_000;
    this.drainPageSize = options.drainPageSize ?? 100;
  }

  async apply(
    events: readonly WindowEvent[],
    now: number
  ): Promise<EngineOutput & { duplicates: number }> {
    this.lastNow = Math.max(this.lastNow, now);
    const { fresh, dedupeKeys, duplicates } = dropDuplicates(events, (k) => this.isSeen(k, now));
    const loaded = this.load(scopesOfEvents(fresh), now);
    const state = partialState(parsed(loaded));
    const output = { findings: [] as Finding[], checks: [] as EngineOutput['checks'], duplicates };
    for (const event of fresh) {
      const out = runEngine(state, event, now, this.engine);
      output.findings.push(...out.findings);
      output.checks.push(...out.checks);
    }
    this.commit(state, loaded, new Set(), now, output.findings);
    for (const k of dedupeKeys) this.seen.set(k, now + this.dedupeTtlMs);
    return output;
  }

  /** Parts collected, then applied in one piece (nothing to read ahead in memory). */
  stage(_now: number): StagedWindowBatch {
    const events: WindowEvent[] = [];
    return {
      add: (part) => void events.push(...part),
      apply: (now) => this.apply(events, now),
    };
  }

  async closeDue(now: number): Promise<EngineOutput> {
    this.lastNow = Math.max(this.lastNow, now);
    this.sweep(now);
    const due = new Set([...this.deadlines].filter(([, t]) => t <= now).map(([id]) => id));
    if (due.size === 0) return { findings: [], checks: [] };
    const loaded = this.load(due, now);
    for (const [id, json] of [...loaded]) {
      if (parseScope(id)?.kind !== 'repo' || json === undefined) continue;
      const related = digestsOfRepo(decodeState('repo', json) as RepoState).map(blobScope);
      for (const [bid, bjson] of this.load(related, now)) {
        if (!loaded.has(bid)) loaded.set(bid, bjson);
      }
    }
    const state = partialState(parsed(loaded));
    const output = closeDue(state, now, this.engine);
    this.commit(state, loaded, due, now, output.findings);
    return output;
  }

  /** As RedisWindowStore.drainOutbox: entries leave only after `publish` resolved. */
  async drainOutbox(publish: (findings: Finding[]) => Promise<void>): Promise<Finding[]> {
    if (this.draining) return [];
    this.draining = true;
    const published: Finding[] = [];
    try {
      while (this.outbox.length > 0) {
        const page = this.outbox.slice(0, this.drainPageSize);
        const byId = new Map<string, Finding>();
        for (const { finding } of page) if (!byId.has(finding.id)) byId.set(finding.id, finding);
        const findings = [...byId.values()];
        await publish(findings);
        const taken = new Set(page.map((p) => p.e));
        this.outbox = this.outbox.filter((p) => !taken.has(p.e));
        published.push(...findings);
      }
      return published;
    } finally {
      this.draining = false;
    }
  }

  async outboxLength(): Promise<number> {
    return this.outbox.length;
  }

  /** The live state (scopes not yet expired at the latest `now` seen), as stored text. */
  snapshot(): {
    scopes: Map<ScopeId, string>;
    deadlines: Map<ScopeId, number>;
    outbox: Finding[];
  } {
    const scopes = new Map<ScopeId, string>();
    for (const [id, stored] of this.values) {
      if (stored.expiresAt > this.lastNow) scopes.set(id, stored.json);
    }
    return {
      scopes,
      deadlines: new Map(this.deadlines),
      outbox: this.outbox.map((e) => e.finding),
    };
  }

  private isSeen(key: string, now: number): boolean {
    const until = this.seen.get(key);
    return until !== undefined && until > now;
  }

  /** The live JSON of each scope (undefined when absent or expired). */
  private load(ids: Iterable<ScopeId>, now: number): Map<ScopeId, string | undefined> {
    const loaded = new Map<ScopeId, string | undefined>();
    for (const id of ids) {
      const stored = this.values.get(id);
      if (stored && stored.expiresAt <= now) this.values.delete(id);
      loaded.set(id, stored && stored.expiresAt > now ? stored.json : undefined);
    }
    return loaded;
  }

  private commit(
    state: ReturnType<typeof partialState>,
    loaded: Map<ScopeId, string | undefined>,
    due: ReadonlySet<ScopeId>,
    now: number,
    findings: readonly Finding[]
  ): void {
    const deadlines = deadlineIndex(state, this.engine);
    const margin = this.stateTtlMs - this.engine.windowMs;
    for (const id of new Set([...loaded.keys(), ...scopesInState(state)])) {
      const value = scopeValue(state, id);
      const before = loaded.get(id);
      if (value === undefined) {
        this.values.delete(id);
        this.deadlines.delete(id);
        continue;
      }
      const json = encodeState(parseScope(id)?.kind ?? 'repo', value);
      const changed = json !== before;
      const deadline = deadlines.get(id);
      const ttl = scopeTtlMs(deadline, now, this.engine.windowMs, margin);
      if (changed) this.values.set(id, { json, expiresAt: now + ttl });
      if (changed || due.has(id)) {
        if (deadline === undefined) this.deadlines.delete(id);
        else this.deadlines.set(id, deadline);
      }
    }
    for (const finding of findings) this.outbox.push({ e: this.nextEntry++, finding });
  }

  private sweep(now: number): void {
    for (const [k, until] of this.seen) if (until <= now) this.seen.delete(k);
    for (const [id, stored] of this.values) if (stored.expiresAt <= now) this.values.delete(id);
  }
}

function parsed(
  loaded: ReadonlyMap<ScopeId, string | undefined>
): Map<ScopeId, ScopeState | undefined> {
  return new Map(
    Array.from(loaded, ([id, json]) => {
      const kind = parseScope(id)?.kind;
      return [id, json === undefined || !kind ? undefined : decodeState(kind, json)];
    })
  );
}

export { MemoryWindowStore };
