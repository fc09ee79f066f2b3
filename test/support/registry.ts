/**
 * Runs Debian's `docker-registry` (distribution 2.8.2) on 127.0.0.1 for end-to-end tests: writes
 * its config.yml (S3 driver pointed at an emulator, or the filesystem driver; Redis
 * blob-descriptor cache on a chosen DB), starts it with an environment free of AWS_* (it panics
 * at start-up when AWS_CA_BUNDLE is set) and of proxy settings, waits for `GET /v2/` 200, and
 * stops it cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.ts';

export type RegistryStorage =
  | {
      kind: 's3';
      /** `http://127.0.0.1:<port>` */
      endpoint: string;
      bucket: string;
      region?: string;
      accessKey?: string;
      secretKey?: string;
      /** e.g. `/harbor`: keys then start `harbor/docker/registry/v2/`. */
      rootDirectory?: string;
      /** Multipart chunk size in bytes (registry default 10 MiB, minimum 5 MiB). */
      chunkSize?: number;
    }
  | { kind: 'filesystem'; dir: string };

export interface RegistryOptions {
  storage: RegistryStorage;
  /** `redis://host:port[/db]`; enables `storage.cache.blobdescriptor: redis`. */
  redisUrl?: string;
  /** Overrides the DB of redisUrl (Harbor's installer uses 1). */
  redisDb?: number;
  /** 0 or absent: a free port. */
  port?: number;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  binary?: string;
}

export interface RunningRegistry {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, for `docker://` references. */
  host: string;
  port: number;
  configPath: string;
  process: ChildProcess;
  /** Everything the registry logged so far (stderr and stdout). */
  logs(): string;
  stop(): Promise<void>;
}

const q = (s: string) => JSON.stringify(s);

/** The registry's config.yml as text. */
export function registryConfig(opts: RegistryOptions & { port: number }): string {
  const lines = [
    'version: 0.1',
    'log:',
    `  level: ${opts.logLevel ?? 'info'}`,
    '  accesslog:',
    '    disabled: false',
    'storage:',
  ];
  const st = opts.storage;
  if (st.kind === 's3') {
    lines.push(
      '  s3:',
      `    accesskey: ${q(st.accessKey ?? 'test')}`,
      `    secretkey: ${q(st.secretKey ?? 'test')}`,
      `    region: ${q(st.region ?? 'us-east-1')}`,
      `    regionendpoint: ${q(st.endpoint)}`,
      `    bucket: ${q(st.bucket)}`,
      '    secure: false',
      '    v4auth: true'
    );
    if (st.rootDirectory) lines.push(`    rootdirectory: ${q(st.rootDirectory)}`);
    if (st.chunkSize) lines.push(`    chunksize: ${st.chunkSize}`);
  } else {
    lines.push('  filesystem:', `    rootdirectory: ${q(st.dir)}`);
  }
  if (opts.redisUrl) lines.push('  cache:', '    blobdescriptor: redis');
  lines.push(
    '  delete:',
    '    enabled: true',
    '  redirect:',
    '    disable: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false'
  );
  if (opts.redisUrl) {
    const u = new URL(opts.redisUrl);
    const db = opts.redisDb ?? (Number(u.pathname.replace('/', '')) || 0);
    lines.push('redis:', `  addr: ${q(`${u.hostname}:${u.port || '6379'}`)}`, `  db: ${db}`);
    if (u.password) lines.push(`  password: ${q(decodeURIComponent(u.password))}`);
  }
  lines.push(
    'http:',
    `  addr: ${q(`127.0.0.1:${opts.port}`)}`,
    `  secret: ${q('pushguard-e2e-secret')}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    'health:',
    '  storagedriver:',
    '    enabled: false'
  );
  return `${lines.join('\n')}\n`;
}

/** The environment without AWS_* variables and proxies (the registry talks to 127.0.0.1). */
export function cleanEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (/^AWS_/i.test(k) || /^(https?|all|no)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

async function waitReady(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}):\n${logs()}`);
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry not ready at ${url}/v2/ (${lastError}):\n${logs()}`);
}

/** Starts `docker-registry serve <config>` and waits for `GET /v2/` 200. */
export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  const port = opts.port || (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'pushguard-registry-'));
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, registryConfig({ ...opts, port }));
  let out = '';
  const child = spawn(opts.binary ?? 'docker-registry', ['serve', configPath], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) =>
      reject(
        new Error(
          `cannot start docker-registry (apt-get install -y docker-registry): ${err.message}`
        )
      )
    )
  );
  spawnError.catch(() => {});
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitReady(url, child, () => out), spawnError]);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    configPath,
    process: child,
    logs: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
