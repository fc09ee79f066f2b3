/**
 * Spawns `node bin/pushguard.mjs local --json ...` for end-to-end tests and follows its JSON-lines
 * stream: waits for the `ready` line, keeps every later line (`finding`, `action`, ...) with the
 * monotonic time it arrived, and lets a test wait for a matching line with a timeout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface ReadyEvent {
  event: 'ready';
  s3Endpoint: string;
  bucket: string;
  webhookUrl: string;
  redis: string;
  [k: string]: unknown;
}

/** One line of the stream. Findings carry a `finding` (or the finding's fields at top level). */
export interface LocalEvent {
  event: string;
  [k: string]: unknown;
}

export interface Received {
  /** performance.now() in this process when the line arrived. */
  at: number;
  /** Date.now() when the line arrived (to compare with the ISO times a line carries). */
  wall: number;
  data: LocalEvent;
}

export interface LocalOptions {
  /** `redis://127.0.0.1:<port>` (no DB): PushGuard's own state and the registry's DB live there. */
  redisUrl: string;
  registryDb: number;
  bucket?: string;
  rootDirectory?: string;
  /** Correlation window, e.g. `4s`. */
  window?: string;
  enforce?: boolean;
  s3Port?: number;
  webhookPort?: number;
  /** `--data-dir`; without it the bucket is in memory (`--ephemeral`), one per test process. */
  dataDir?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the ready line (default 60 s). */
  readyTimeoutMs?: number;
}

export interface PushguardLocal {
  ready: ReadyEvent;
  process: ChildProcess;
  /** Every line after `ready`, in order. */
  received: Received[];
  events(kind?: string): LocalEvent[];
  /** Waits for a line (from index `from` on) matching `match`; rejects on timeout or exit. */
  waitFor(
    match: (e: LocalEvent) => boolean,
    opts?: { timeoutMs?: number; what?: string; from?: number }
  ): Promise<Received>;
  /** Everything PushGuard wrote on stderr (logs). */
  stderr(): string;
  /** Lines that were not JSON. */
  noise: string[];
  stop(): Promise<void>;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The finding object of a `finding` or `action` line, wherever the line puts it. */
export function findingOf(e: LocalEvent): Record<string, unknown> {
  const f = e.finding;
  if (f && typeof f === 'object') return f as Record<string, unknown>;
  return e;
}

export function argsFor(opts: LocalOptions): string[] {
  const args = [
    'local',
    '--json',
    '--s3-port',
    String(opts.s3Port ?? 0),
    '--webhook-port',
    String(opts.webhookPort ?? 0),
    '--redis',
    opts.redisUrl,
    '--registry-db',
    String(opts.registryDb),
  ];
  if (opts.bucket) args.push('--bucket', opts.bucket);
  if (opts.rootDirectory !== undefined) args.push('--root-directory', opts.rootDirectory);
  if (opts.window) args.push('--window', opts.window);
  if (opts.enforce) args.push('--enforce');
  if (opts.dataDir) args.push('--data-dir', opts.dataDir);
  else args.push('--ephemeral');
  args.push(...(opts.extraArgs ?? []));
  return args;
}

export async function startPushguardLocal(opts: LocalOptions): Promise<PushguardLocal> {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin', 'pushguard.mjs'), ...argsFor(opts)],
    {
      cwd: repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 4_000_000) err = err.slice(-2_000_000);
  });
  const received: Received[] = [];
  const noise: string[] = [];
  const waiters = new Set<() => void>();
  let ready: ReadyEvent | undefined;
  let exited: string | undefined;
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    const at = performance.now();
    const wall = Date.now();
    let data: LocalEvent;
    try {
      data = JSON.parse(line) as LocalEvent;
    } catch {
      noise.push(line);
      return;
    }
    if (!data || typeof data !== 'object' || typeof data.event !== 'string') {
      noise.push(line);
      return;
    }
    if (data.event === 'ready' && !ready) ready = data as ReadyEvent;
    else received.push({ at, wall, data });
    notify();
  });
  child.once('exit', (code, signal) => {
    exited = `pushguard local exited (${code ?? signal})`;
    notify();
  });
  child.once('error', (e) => {
    exited = `cannot start pushguard local: ${e.message}`;
    notify();
  });

  const waitFor: PushguardLocal['waitFor'] = (match, o = {}) => {
    const timeoutMs = o.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      let i = o.from ?? 0;
      const check = () => {
        for (; i < received.length; i++) {
          const r = received[i]!;
          if (match(r.data)) {
            done();
            resolve(r);
            return;
          }
        }
        if (exited) {
          done();
          reject(
            new Error(`${exited} while waiting for ${o.what ?? 'a line'}\n${err.slice(-4000)}`)
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${o.what ?? 'a line'}; got ${received
              .map((r) => r.data.event)
              .join(',')}\nstderr tail:\n${err.slice(-4000)}`
          )
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  };

  const stop = async () => {
    rl.close();
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    }
  };

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(
        new Error(`pushguard local not ready after ${opts.readyTimeoutMs ?? 60_000} ms:\n${err}`)
      );
    }, opts.readyTimeoutMs ?? 60_000);
    const check = () => {
      if (ready) {
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      } else if (exited) {
        clearTimeout(timer);
        waiters.delete(check);
        reject(new Error(`${exited} before ready:\n${err}\n${noise.join('\n')}`));
      }
    };
    waiters.add(check);
    check();
  }).catch(async (e) => {
    await stop();
    throw e;
  });

  return {
    ready: ready!,
    process: child,
    received,
    events: (kind) => received.map((r) => r.data).filter((d) => !kind || d.event === kind),
    waitFor,
    stderr: () => err,
    noise,
    stop,
  };
}
