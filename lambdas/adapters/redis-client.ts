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
import { ConfigError, PushGuardError } from '../domain/errors.ts';

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

/** The connection could not be made; the message names the likely cause. */
export class RedisConnectError extends PushGuardError {}

/** What a failed connect means, in words an operator can act on. */
export function connectFailure(url: string, err: unknown): RedisConnectError {
  const parsed = new URL(url);
  const where = `redis ${parsed.hostname}:${parsed.port || 6379}`;
  const tls = parsed.protocol === 'rediss:';
  const e = err as { message?: string; code?: string };
  const text = `${e.code ?? ''} ${e.message ?? String(err)}`;
  let cause: string;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(text)) {
    cause = parsed.password
      ? 'refused the password (WRONGPASS): the AUTH secret does not match (or the ACL user)'
      : 'refused the connection (WRONGPASS)';
  } else if (/NOAUTH|Authentication required/i.test(text)) {
    cause = 'requires a password (NOAUTH) and none was given: set the AUTH secret';
  } else if (
    tls &&
    /ECONNRESET|EPROTO|SSL|TLS|wrong version|closed|ETIMEDOUT|timed? ?out/i.test(text)
  ) {
    cause = 'broke off the TLS handshake: it may not speak TLS (set TLS off for this Redis)';
  } else if (!tls && /Connection is closed|ECONNRESET/i.test(text)) {
    cause = 'closed the connection before answering: it may expect TLS (set TLS on)';
  } else if (/ECONNREFUSED/.test(text)) {
    cause = 'refused the connection (ECONNREFUSED): wrong host or port, or Redis is down';
  } else if (/ETIMEDOUT|timed? ?out/i.test(text)) {
    cause = 'did not answer in time: check the security group, the subnets and the port';
  } else if (/ENOTFOUND|EAI_AGAIN/.test(text)) {
    cause = 'has a host name that does not resolve';
  } else {
    cause = `could not be reached (${text.trim()})`;
  }
  return new RedisConnectError(`${where} db ${parsed.pathname.slice(1) || 0} ${cause}`, {
    cause: err,
  });
}

/** Builds a client and waits until it is connected (and the DB selected). */
export async function connectRedis(url: string, options: RedisClientOptions = {}): Promise<Redis> {
  const client = createRedisClient(url, options);
  // ioredis rejects connect() with "Connection is closed."; the cause (NOAUTH, WRONGPASS, a TLS
  // error) came as the first 'error' event before it.
  const seen: Error[] = [];
  const note = (e: Error) => seen.push(e);
  client.on('error', note);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw connectFailure(url, seen[0] ?? err);
  } finally {
    client.off('error', note);
  }
  return client;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
