/**
 * `pushguard restore <audit-record-file> --redis <url> [--cache-layer-redis <url>] [--force]`
 *
 * Puts the keys of a write-ahead audit record back, byte for byte (hash fields and values, string
 * bytes, set members, TTLs):
 *  1. reads the record and verifies its sha256 (a modified record is refused);
 *  2. checks each target DB is not a jobservice/core DB (registry) or a registry DB (cache layer);
 *  3. looks for conflicts in every store first: a key that now holds different content is only
 *     overwritten with --force, otherwise nothing at all is written;
 *  4. restores each store in one Lua script; keys already identical are left alone.
 * Prints one JSON line: {"event":"restore","record":…,"restored":[…],"unchanged":[…],"overwritten":[…]}.
 */
import { readAuditRecordFile } from '../../adapters/file-audit-log.ts';
import { connectRedis } from '../../adapters/redis-client.ts';
import {
  type CacheStore,
  RedisRegistryCache,
  RestoreConflictError,
} from '../../adapters/redis-registry-cache.ts';
import { ConfigError } from '../../domain/errors.ts';
import type { KeySnapshot } from '../../domain/remediation.ts';
import { type CliIo, stdoutIo } from '../io.ts';
import type { RestoreOptions } from '../options.ts';

export async function runRestore(
  file: string,
  options: RestoreOptions,
  io: CliIo = stdoutIo
): Promise<{ restored: string[]; unchanged: string[]; overwritten: string[] }> {
  const record = await readAuditRecordFile(file);
  const byStore: Record<CacheStore, KeySnapshot[]> = {
    registry: record.snapshots.filter((s) => s.store === 'registry'),
    'cache-layer': record.snapshots.filter((s) => s.store === 'cache-layer'),
  };
  if (byStore['cache-layer'].length > 0 && !options.cacheLayerRedis) {
    throw new ConfigError([
      `${file} holds ${byStore['cache-layer'].length} cache-layer key(s): pass --cache-layer-redis <url>`,
    ]);
  }
  const urls: Record<CacheStore, string | undefined> = {
    registry: options.redis,
    'cache-layer': options.cacheLayerRedis,
  };
  const targets: { cache: RedisRegistryCache; snaps: KeySnapshot[]; close(): void }[] = [];
  try {
    for (const store of ['registry', 'cache-layer'] as const) {
      const url = urls[store];
      if (byStore[store].length === 0 || !url) continue;
      const client = await connectRedis(url, { connectionName: 'pushguard-restore' });
      targets.push({
        cache: new RedisRegistryCache(client, { store }),
        snaps: byStore[store],
        close: () => client.disconnect(),
      });
    }
    if (!options.force) {
      const conflicts: string[] = [];
      for (const t of targets) conflicts.push(...(await t.cache.restoreConflicts(t.snaps)));
      if (conflicts.length > 0) throw new RestoreConflictError(conflicts);
    }
    const total = {
      restored: [] as string[],
      unchanged: [] as string[],
      overwritten: [] as string[],
    };
    for (const t of targets) {
      const res = await t.cache.restoreSnapshots(t.snaps, { force: options.force === true });
      total.restored.push(...res.restored);
      total.unchanged.push(...res.unchanged);
      total.overwritten.push(...res.overwritten);
    }
    io.out(`${JSON.stringify({ event: 'restore', record: record.id, ...total })}\n`);
    return total;
  } finally {
    for (const t of targets) t.close();
  }
}
