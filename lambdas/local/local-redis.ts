/**
 * Finds the Redis `pushguard local` uses: `--redis`, else REDIS_URL, else 127.0.0.1:6379. If that
 * one does not answer and `redis-server` is installed, starts a throwaway one (no persistence) on a
 * free 127.0.0.1 port; otherwise fails with the install command.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { ConfigError } from '../domain/errors.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const INSTALL_HINT = 'apt-get install -y redis-server';

/** True when something speaking RESP answers a PING at `url` (even `-NOAUTH` is an answer). */
export function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(u.port || 6379);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return new Promise((resolve) => {
    const socket =
      u.protocol === 'rediss:'
        ? tlsConnect({ host, port, servername: host, rejectUnauthorized: false })
        : netConnect({ host, port });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () =>
      socket.write('PING\r\n')
    );
    socket.once('data', (d: Buffer) => finish(/^[+-]/.test(d.toString('latin1'))));
    socket.once('error', () => finish(false));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface StartedRedis {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `redis-server` on a free 127.0.0.1 port with `databases` DBs and no persistence. */
export async function startRedisServer(databases = 16): Promise<StartedRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pushguard-local-redis-'));
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'];
  args.push('--databases', String(databases), '--dir', dir);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new ConfigError([`redis-server did not start: ${out.slice(-500)}`]));
    }, 15_000);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      cleanup();
      const why = err.code === 'ENOENT' ? 'redis-server is not installed' : err.message;
      reject(new ConfigError([`no Redis answers and ${why}: ${INSTALL_HINT}`]));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new ConfigError([`redis-server exited (${code}): ${out.slice(-500)}`]));
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        resolve();
      }
    });
  });
  child.removeAllListeners('exit');
  return {
    url: `redis://127.0.0.1:${port}`,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      cleanup();
    },
  };
}

export interface ResolvedRedis {
  /** Base URL without a DB path. */
  url: string;
  /** Set when PushGuard started its own redis-server (stop it on exit). */
  started?: StartedRedis;
  /** What happened, for the operator. */
  note?: string;
}

/** The Redis base URL (any `/db` path dropped: DBs come from --registry-db and --state-db). */
export function baseRedisUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '';
  return u.toString().replace(/\/$/, '');
}

export async function resolveRedis(opts: {
  url?: string;
  env?: NodeJS.ProcessEnv;
  databases?: number;
}): Promise<ResolvedRedis> {
  const wanted = opts.url ?? opts.env?.REDIS_URL ?? DEFAULT_REDIS_URL;
  let base: string;
  try {
    base = baseRedisUrl(wanted);
  } catch {
    throw new ConfigError([`--redis: not a URL: ${wanted}`]);
  }
  if (await redisAnswers(base)) return { url: base };
  const started = await startRedisServer(Math.max(16, opts.databases ?? 16));
  const shown = new URL(base);
  shown.password = '';
  return {
    url: started.url,
    started,
    note: `no Redis answered at ${shown.toString()}; started redis-server at ${started.url} (throwaway, stopped on exit)`,
  };
}
