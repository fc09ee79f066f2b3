/**
 * The window store's Lua scripts (lua/*.lua), registered on the client with ioredis
 * `defineCommand`: EVALSHA, and EVAL on NOSCRIPT (a new or restarted server).
 *
 * Why read from files next to this module: the scripts stay Lua (readable with their own
 * header), and the same relative URL works from source (tsx, vitest), from the CLI build
 * (scripts/build.mjs copies each Lua file named by a URL literal to dist/cli/lua/) and from a
 * Lambda bundle (lib/constructs/pipeline-function.ts copies lua/ next to index.mjs). Keep each
 * URL a literal: the CLI build finds them by that pattern.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';

/** Characters of a dedupe id (base64url, so 6 bits each). */
export const ID_WIDTH = 22;

/** window-read.lua's reply: 1-based indexes of ids already marked, scope values, bucket SCARDs. */
export type ReadReply = [number[], (string | null)[], number[]];

/** The commands as registered on the client, by file. */
const COMMANDS = {
  pushguardWindowRead: new URL('./lua/window-read.lua', import.meta.url),
  pushguardWindowApply: new URL('./lua/window-apply.lua', import.meta.url),
  pushguardOutboxLease: new URL('./lua/outbox-lease.lua', import.meta.url),
  pushguardOutboxAck: new URL('./lua/outbox-ack.lua', import.meta.url),
} as const;

type CommandName = keyof typeof COMMANDS;
type Args = (string | number)[];

/** The Lua file at `url`, else under the Lambda task root's `lua/` (a fallback for bundlers). */
export function readLua(url: URL): string {
  const file = basename(url.pathname);
  const candidates = [fileURLToPath(url)];
  if (process.env.LAMBDA_TASK_ROOT)
    candidates.push(join(process.env.LAMBDA_TASK_ROOT, 'lua', file));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`Lua script ${file} not found (looked in ${candidates.join(', ')})`);
  return readFileSync(found, 'utf8');
}

let sources: Map<CommandName, string> | undefined;

function sourceOf(name: CommandName): string {
  // Read once per process, on first use.
  sources ??= new Map(
    (Object.keys(COMMANDS) as CommandName[]).map((n) => [n, readLua(COMMANDS[n])])
  );
  return sources.get(name)!;
}

export interface WindowScripts {
  read(keys: readonly string[], args: Args): Promise<ReadReply>;
  apply(keys: readonly string[], args: Args): Promise<[number, (string | number)?]>;
  leaseOutbox(keys: readonly string[], args: Args): Promise<string[] | null>;
  ackOutbox(keys: readonly string[], args: Args): Promise<number>;
}

/** The scripts, defined on `redis` once (a client keeps its defined commands). */
export function windowScripts(redis: Redis): WindowScripts {
  const client = redis as unknown as Record<CommandName, (...a: unknown[]) => Promise<unknown>>;
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    if (typeof client[name] !== 'function') redis.defineCommand(name, { lua: sourceOf(name) });
  }
  const command =
    <T>(name: CommandName) =>
    (keys: readonly string[], args: Args) =>
      client[name](keys.length, ...keys, ...args) as Promise<T>;
  return {
    read: command<ReadReply>('pushguardWindowRead'),
    apply: command<[number, (string | number)?]>('pushguardWindowApply'),
    leaseOutbox: command<string[] | null>('pushguardOutboxLease'),
    ackOutbox: command<number>('pushguardOutboxAck'),
  };
}
