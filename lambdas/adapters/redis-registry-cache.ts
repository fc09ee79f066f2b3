/**
 * RegistryCache on ioredis: the registry's Redis blob-descriptor cache (distribution v2.8,
 * `store: 'registry'`) or Harbor core's cache layer (`store: 'cache-layer'`).
 *
 * Safety rules (reliability.md requirements 5, 6 and 8):
 * - the client must be fail-fast: `enableOfflineQueue: false` and `autoResendUnfulfilledCommands:
 *   false`, so a DEL decided before a disconnect is never queued or resent after a reconnect,
 *   plus a `commandTimeout` (or `maxRetriesPerRequest: 0`) so a command cut off by a disconnect
 *   rejects instead of hanging (ioredis drops it without settling its promise otherwise);
 * - every key is rebuilt from a validated repository name and sha256 digest and must be on the
 *   allow-list; no pattern ever reaches a write, and there is no KEYS and no FLUSH anywhere;
 * - before the first write the DB is sampled with a bounded SCAN and refused unless it looks like
 *   the store it is configured as (no jobservice keys, no Harbor core keys in a registry DB);
 * - deletes are compare-and-delete in ONE Lua script for the whole snapshot set: a key goes only
 *   if it still holds exactly what the snapshot saw (hash: same fields and bytes; string: same
 *   bytes; set member: still present), so a concurrent HSET keeps that key.
 *
 * Keys are reported by `cacheKeyLabel`: the key, or `<set> <member>` for a set member. The Lua
 * lives in lua/registry-*.lua (registry-cache-scripts.ts); key rebuilding and DB sniffing in
 * registry-cache-keys.ts.
 */
import type { Redis } from 'ioredis';
import { SafetyRefusalError } from '../domain/errors.ts';
import { isSha256Digest, isValidRepositoryName } from '../domain/keys.ts';
import {
  type CacheKeyRef,
  cacheKeyLabel,
  isAllowListed,
  type KeySnapshot,
} from '../domain/remediation.ts';
import type { Digest } from '../domain/types.ts';
import type { RegistryCache } from '../ports.ts';
import { classifyDbKey, type KeyClass, rebuild } from './registry-cache-keys.ts';
import {
  asIndexes,
  evalScript,
  isUtf8,
  type LuaScript,
  registryScripts,
  snapshotArgs,
} from './registry-cache-scripts.ts';

export { classifyDbKey } from './registry-cache-keys.ts';

export type CacheStore = 'registry' | 'cache-layer';

export interface RedisRegistryCacheOptions {
  store: CacheStore;
  /** Keys examined at most by the DB check. @default 4000 */
  sampleLimit?: number;
  /** SCAN COUNT hint of the DB check and of the scans. @default 1000 */
  scanCount?: number;
}

/** Restore found keys holding something else than the record, and wrote nothing. */
export class RestoreConflictError extends SafetyRefusalError {
  readonly conflicts: readonly string[];
  constructor(conflicts: readonly string[]) {
    super(
      `refusing to overwrite ${conflicts.length} key(s) that now hold different content ` +
        `(use --force to overwrite): ${conflicts.join(', ')}`
    );
    this.conflicts = conflicts;
  }
}

export interface RestoreResult {
  /** Written back. */
  restored: string[];
  /** Already held exactly the snapshot. */
  unchanged: string[];
  /** Held different content and were overwritten (force only). */
  overwritten: string[];
}

/** The ioredis options a RedisRegistryCache requires (see the file comment). */
export const REQUIRED_CLIENT_OPTIONS = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  commandTimeout: 5000,
} as const;

const EXPECTED_TYPE: Record<CacheKeyRef['type'], string> = {
  hash: 'hash',
  string: 'string',
  'set-member': 'set',
};

export class RedisRegistryCache implements RegistryCache {
  readonly store: CacheStore;
  private readonly client: Redis;
  private readonly sampleLimit: number;
  private readonly scanCount: number;
  private verified = false;

  constructor(client: Redis, options: RedisRegistryCacheOptions) {
    const o = client.options ?? {};
    const problems: string[] = [];
    if (o.enableOfflineQueue !== false) problems.push('enableOfflineQueue: false');
    if (o.autoResendUnfulfilledCommands !== false)
      problems.push('autoResendUnfulfilledCommands: false');
    const settles = o.maxRetriesPerRequest === 0 || (o.commandTimeout ?? 0) > 0;
    if (!settles) problems.push('commandTimeout > 0 (or maxRetriesPerRequest: 0)');
    if (problems.length > 0) {
      throw new SafetyRefusalError(
        `the Redis client for the ${options.store} cache must be built with ${problems.join(' and ')} ` +
          '(a DEL decided before a disconnect must never be queued or resent after a reconnect, ' +
          'and a command cut off by a disconnect must still settle); ' +
          'use createRedisClient from lambdas/adapters/redis-client.ts'
      );
    }
    if (options.store !== 'registry' && options.store !== 'cache-layer') {
      throw new SafetyRefusalError(`unknown cache store ${JSON.stringify(options.store)}`);
    }
    this.client = client;
    this.store = options.store;
    this.sampleLimit = options.sampleLimit ?? 4000;
    this.scanCount = options.scanCount ?? 1000;
  }

  /** `redis host:port db N`, for messages. */
  describe(): string {
    const o = this.client.options;
    return `redis ${o.host ?? '?'}:${o.port ?? '?'} db ${o.db ?? 0}`;
  }

  async assertLooksLikeRegistryDb(): Promise<void> {
    if (this.verified) return;
    const counts = await this.sample();
    const problems = this.foreignProblems(counts);
    if (this.store === 'registry' && counts.registry === 0) {
      problems.push('it holds no blobs:: or repository:: key');
    }
    if (this.store === 'cache-layer' && counts.core === 0) {
      problems.push('it holds no cache: key');
    }
    this.refuseIf(problems, counts.examined);
    this.verified = true;
  }

  /**
   * The negative half of the DB check, for restore: a DB whose only registry keys were cleared
   * is still a registry DB, but a jobservice or core DB never is.
   */
  async assertNotForeignDb(): Promise<void> {
    const counts = await this.sample();
    this.refuseIf(this.foreignProblems(counts), counts.examined);
  }

  async snapshot(refs: readonly CacheKeyRef[]): Promise<KeySnapshot[]> {
    if (refs.length === 0) return [];
    const checked = this.checkRefs(refs);
    const keys = checked.map((r) => r.key);
    const members = checked.map((r) => (r.type === 'set-member' ? (r.member ?? '') : ''));
    const reply = (await this.eval(registryScripts().snapshot, keys, members)) as [
      Buffer,
      number,
      unknown,
    ][];
    const out: KeySnapshot[] = [];
    checked.forEach((ref, i) => {
      const [typeBuf, pttl, content] = reply[i] ?? [];
      const type = String(typeBuf);
      if (type === 'none') return;
      if (type !== EXPECTED_TYPE[ref.type]) {
        throw new SafetyRefusalError(
          `${this.describe()}: ${ref.key} is a ${type}, expected a ${EXPECTED_TYPE[ref.type]}; refusing to touch it`
        );
      }
      const base = { store: ref.store, key: ref.key, type: ref.type, pttl: Number(pttl) };
      if (ref.type === 'set-member') {
        if (Number(content) === 1) out.push({ ...base, member: ref.member });
      } else if (ref.type === 'string') {
        out.push({ ...base, valueBase64: (content as Buffer).toString('base64') });
      } else {
        const flat = content as Buffer[];
        const utf8 = flat.every(isUtf8);
        const enc = utf8 ? 'utf8' : 'base64';
        const pairs: [string, string][] = [];
        for (let j = 0; j + 1 < flat.length; j += 2) {
          pairs.push([flat[j]!.toString(enc), flat[j + 1]!.toString(enc)]);
        }
        out.push({ ...base, hash: Object.fromEntries(pairs), ...(utf8 ? {} : { encoding: enc }) });
      }
    });
    return out;
  }

  async compareAndDelete(
    snapshots: readonly KeySnapshot[]
  ): Promise<{ deleted: string[]; changed: string[] }> {
    if (snapshots.length === 0) return { deleted: [], changed: [] };
    const unique = this.unique(snapshots);
    this.checkRefs(unique);
    await this.assertLooksLikeRegistryDb();
    const args = unique.flatMap(snapshotArgs);
    const reply = (await this.eval(
      registryScripts().compareAndDelete,
      unique.map((s) => s.key),
      args
    )) as unknown[];
    return {
      deleted: asIndexes(reply[0]).map((i) => cacheKeyLabel(unique[i]!)),
      changed: asIndexes(reply[1]).map((i) => cacheKeyLabel(unique[i]!)),
    };
  }

  /** RegistryCache.restore: refuses (RestoreConflictError) to overwrite different content. */
  async restore(snapshots: readonly KeySnapshot[]): Promise<void> {
    await this.restoreSnapshots(snapshots);
  }

  /**
   * Puts the keys back byte for byte in one Lua script: all or nothing. A key that already holds
   * exactly the snapshot is left alone; one holding anything else is a conflict that stops the
   * whole restore unless `force`. TTLs are set again from the snapshot's PTTL.
   */
  async restoreSnapshots(
    snapshots: readonly KeySnapshot[],
    options: { force?: boolean } = {}
  ): Promise<RestoreResult> {
    if (snapshots.length === 0) return { restored: [], unchanged: [], overwritten: [] };
    const unique = this.unique(snapshots);
    const reply = await this.runRestore(unique, options.force ? '1' : '0');
    const label = (i: number) => cacheKeyLabel(unique[i]!);
    const conflicts = asIndexes(reply[3]).map(label);
    if (Number(reply[0]) !== 1) throw new RestoreConflictError(conflicts);
    return {
      restored: asIndexes(reply[1]).map(label),
      unchanged: asIndexes(reply[2]).map(label),
      overwritten: conflicts,
    };
  }

  /** Keys that now hold something else than their snapshot (restore would refuse them). */
  async restoreConflicts(snapshots: readonly KeySnapshot[]): Promise<string[]> {
    if (snapshots.length === 0) return [];
    const unique = this.unique(snapshots);
    const reply = await this.runRestore(unique, 'c');
    return asIndexes(reply[3]).map((i) => cacheKeyLabel(unique[i]!));
  }

  private async runRestore(unique: KeySnapshot[], mode: '0' | '1' | 'c'): Promise<unknown[]> {
    this.checkRefs(unique);
    await this.assertNotForeignDb();
    const args: Buffer[] = [Buffer.from(mode)];
    for (const s of unique) {
      const pttl = Number.isInteger(s.pttl) && s.pttl > 0 ? s.pttl : -1;
      args.push(...snapshotArgs(s), Buffer.from(String(pttl)));
    }
    return (await this.eval(
      registryScripts().restore,
      unique.map((s) => s.key),
      args
    )) as unknown[];
  }

  async *scanBlobDescriptors(count = this.scanCount): AsyncIterable<Digest[]> {
    let cursor = '0';
    do {
      const page = await this.scanBlobDescriptorPage(cursor, count);
      cursor = page.cursor;
      if (page.digests.length > 0) yield page.digests;
    } while (cursor !== '0');
  }

  async scanBlobDescriptorPage(
    cursor: string,
    count = this.scanCount
  ): Promise<{ cursor: string; digests: Digest[] }> {
    const [next, keys] = await this.client.scan(cursor, 'MATCH', 'blobs::sha256:*', 'COUNT', count);
    const digests = keys.map((k) => k.slice('blobs::'.length)).filter(isSha256Digest);
    return { cursor: next, digests };
  }

  async *scanRepositoryBlobSets(
    count = this.scanCount
  ): AsyncIterable<{ repository: string; digests: Digest[] }> {
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(
        cursor,
        'MATCH',
        'repository::*::blobs',
        'COUNT',
        count,
        'TYPE',
        'set'
      );
      cursor = next;
      for (const key of keys) {
        const repository = key.slice('repository::'.length, -'::blobs'.length);
        if (!key.endsWith('::blobs') || !isValidRepositoryName(repository)) continue;
        let sc = '0';
        do {
          const [n, members] = await this.client.sscan(key, sc, 'COUNT', count);
          sc = n;
          const digests = members.filter(isSha256Digest);
          if (digests.length > 0) yield { repository, digests };
        } while (sc !== '0');
      }
    } while (cursor !== '0');
  }

  private async sample(): Promise<Record<KeyClass | 'examined', number> & { seen: string[] }> {
    const counts = { registry: 0, core: 0, jobservice: 0, other: 0, examined: 0 };
    const seen: string[] = [];
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, keys] = await this.client.scan(cursor, 'COUNT', this.scanCount);
      cursor = next;
      rounds++;
      for (const k of keys) {
        const c = classifyDbKey(k);
        counts[c]++;
        counts.examined++;
        if (c !== 'other' && c !== this.ownClass() && seen.length < 3) seen.push(k);
      }
    } while (cursor !== '0' && counts.examined < this.sampleLimit && rounds < 100);
    return { ...counts, seen };
  }

  private ownClass(): KeyClass {
    return this.store === 'registry' ? 'registry' : 'core';
  }

  private foreignProblems(counts: Record<KeyClass, number> & { seen: string[] }): string[] {
    const problems: string[] = [];
    const eg = counts.seen.length > 0 ? ` (e.g. ${counts.seen.join(', ')})` : '';
    if (counts.jobservice > 0)
      problems.push(`it holds ${counts.jobservice} jobservice/job-queue key(s)${eg}`);
    if (this.store === 'registry' && counts.core > 0) {
      problems.push(`it holds ${counts.core} Harbor core key(s) (cache:, sessions)${eg}`);
    }
    if (this.store === 'cache-layer' && counts.registry > 0) {
      problems.push(`it holds ${counts.registry} registry key(s) (blobs::, repository::)${eg}`);
    }
    return problems;
  }

  private refuseIf(problems: string[], examined: number): void {
    if (problems.length === 0) return;
    throw new SafetyRefusalError(
      `${this.describe()} does not look like a ${this.store === 'registry' ? 'registry blob-descriptor cache' : 'Harbor cache-layer'} DB ` +
        `(${examined} keys sampled): ${problems.join('; ')}. Check the configured DB number.`
    );
  }

  /** Every ref must be for this store, allow-listed, and rebuildable from validated parts. */
  private checkRefs<T extends CacheKeyRef>(refs: readonly T[]): T[] {
    for (const ref of refs) {
      if (ref.store !== this.store) {
        throw new SafetyRefusalError(
          `${ref.key} belongs to the ${ref.store} store, not ${this.store}`
        );
      }
      if (!isAllowListed(ref) || rebuild(ref) !== ref.key) {
        throw new SafetyRefusalError(
          `refusing a key outside the allow-list: ${JSON.stringify(cacheKeyLabel(ref).slice(0, 300))}`
        );
      }
    }
    return [...refs];
  }

  private unique<T extends CacheKeyRef>(refs: readonly T[]): T[] {
    const seen = new Set<string>();
    return refs.filter((r) => {
      const l = cacheKeyLabel(r);
      if (seen.has(l)) return false;
      seen.add(l);
      return true;
    });
  }

  private eval(s: LuaScript, keys: string[], args: (string | Buffer)[]): Promise<unknown> {
    return evalScript(this.client, s, keys, args);
  }
}
