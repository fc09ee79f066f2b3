/**
 * The one place that builds ioredis clients, from a URL `redis://[user:pass@]host:port/db` or
 * `rediss://...` (TLS). Every client PushGuard uses is fail-fast:
 * - `enableOfflineQueue: false`: a command issued while disconnected is rejected at once, never
 *   queued and replayed after a reconnect (a DEL decided before a disconnect must not run later);
 * - `maxRetriesPerRequest: 1` and `autoResendUnfulfilledCommands: false`: nothing is resent behind
 *   our back; the caller (SQS redelivery, the next scheduled check) retries with fresh state;
 * - `commandTimeout`: a hung server rejects the promise (the server may still have run it, which
 *   is why every write path here is idempotent or compare-and-set).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../domain/errors.ts';

export interface RedisClientOptions {
  /** Per-command timeout in ms. @default 5000 */
  commandTimeoutMs?: number;
  /** TCP/TLS connect timeout in ms. @default 5000 */
  connectTimeoutMs?: number;
  /** Retries per request before rejecting it. @default 1 */
  maxRetriesPerRequest?: number;
  /** Connection name shown by CLIENT LIST. @default 'pushguard' */
  connectionName?: string;
  /** Extra TLS options for `rediss://` (CA bundle...). */
  tls?: RedisOptions['tls'];
  /**
   * Connection errors (refused, reset, reconnecting). Commands reject on their own; this only
   * observes. @default ignored (no "Unhandled error event" noise)
   */
  onError?: (err: Error) => void;
}

/** Parses the URL and returns ioredis options; throws ConfigError listing every problem. */
export function redisOptionsFromUrl(url: string, options: RedisClientOptions = {}): RedisOptions {
  const problems: string[] = [];
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError([`redis URL is not a URL: ${redact(url)}`]);
  }
  const secure = parsed.protocol === 'rediss:';
  if (parsed.protocol !== 'redis:' && !secure) {
    problems.push(`redis URL scheme must be redis:// or rediss://, got ${parsed.protocol}//`);
  }
  if (!parsed.hostname) problems.push('redis URL has no host');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbPath = parsed.pathname.replace(/^\//, '');
  const db = dbPath === '' ? 0 : Number(dbPath);
  if (!/^\d*$/.test(dbPath) || !Number.isInteger(db) || db < 0 || db > 65535) {
    problems.push(`redis URL database must be a non-negative integer, got "${dbPath}"`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const opts: RedisOptions = {
    host,
    port,
    db,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 1,
    commandTimeout: options.commandTimeoutMs ?? 5000,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    connectionName: options.connectionName ?? 'pushguard',
    lazyConnect: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  };
  if (parsed.username) opts.username = decodeURIComponent(parsed.username);
  if (parsed.password) opts.password = decodeURIComponent(parsed.password);
  if (secure) opts.tls = { servername: host, ...(options.tls ?? {}) };
  return opts;
}

/** A client that connects on `connect()` (or lazily on first use, which fails fast while offline). */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
  const client = new Redis(redisOptionsFromUrl(url, options));
  client.on('error', options.onError ?? (() => undefined));
  return client;
}

/** Builds a client and waits until it is connected (and the DB selected). */
export async function connectRedis(url: string, options: RedisClientOptions = {}): Promise<Redis> {
  const client = createRedisClient(url, options);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return client;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
