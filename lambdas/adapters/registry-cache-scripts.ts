/**
 * RedisRegistryCache's Lua scripts (lua/registry-*.lua) and their argument layout. Run by
 * EVALSHA with Buffer arguments (binary-safe values), EVAL on NOSCRIPT. The URLs stay literals:
 * the CLI build copies each Lua file it finds that way (see redis-window-scripts.ts).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SafetyRefusalError } from '../domain/errors.ts';
import type { KeySnapshot } from '../domain/remediation.ts';
import { readLua } from './redis-window-scripts.ts';

export interface LuaScript {
  lua: string;
  sha: string;
}

function script(url: URL): LuaScript {
  const lua = readLua(url);
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

let loaded: Record<'snapshot' | 'compareAndDelete' | 'restore', LuaScript> | undefined;

/** The three scripts, read once per process on first use. */
export function registryScripts(): NonNullable<typeof loaded> {
  loaded ??= {
    snapshot: script(new URL('./lua/registry-snapshot.lua', import.meta.url)),
    compareAndDelete: script(new URL('./lua/registry-compare-and-delete.lua', import.meta.url)),
    restore: script(new URL('./lua/registry-restore.lua', import.meta.url)),
  };
  return loaded;
}

/** EVALSHA, then EVAL when the server does not know the script (new or restarted). */
export async function evalScript(
  client: Redis,
  s: LuaScript,
  keys: string[],
  args: (string | Buffer)[]
): Promise<unknown> {
  const argv = [String(keys.length), ...keys, ...args];
  try {
    return await client.callBuffer('EVALSHA', [s.sha, ...argv]);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.callBuffer('EVAL', [s.lua, ...argv]);
  }
}

/** The bytes are valid UTF-8 (a snapshot then keeps them as text, else as base64). */
export function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/** The snapshot's bytes: hash pairs, string value or set member, as Buffers for Lua. */
export function snapshotArgs(s: KeySnapshot): Buffer[] {
  if (s.type === 'hash') {
    const enc = s.encoding === 'base64' ? 'base64' : 'utf8';
    const pairs = Object.entries(s.hash ?? {});
    const args = [Buffer.from('hash'), Buffer.from(String(pairs.length))];
    for (const [f, v] of pairs) args.push(Buffer.from(f, enc), Buffer.from(v, enc));
    return args;
  }
  if (s.type === 'string') {
    if (typeof s.valueBase64 !== 'string') {
      throw new SafetyRefusalError(`snapshot of ${s.key} has no valueBase64`);
    }
    return [Buffer.from('string'), Buffer.from(s.valueBase64, 'base64')];
  }
  return [Buffer.from('set'), Buffer.from(s.member ?? '')];
}

/** A script's 1-based index list as 0-based indexes. */
export function asIndexes(v: unknown): number[] {
  return Array.isArray(v) ? v.map((x) => Number(x) - 1) : [];
}
