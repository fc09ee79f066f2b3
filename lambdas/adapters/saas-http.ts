/**
 * The HTTP plumbing shared by the SaaS ticket adapters (Jira Cloud, GitHub): global fetch with a
 * per-attempt timeout, and retries with exponential backoff and jitter that respect Retry-After.
 *
 * What is retried:
 * - rate limits (429, and GitHub's 403 with `x-ratelimit-remaining: 0` or `retry-after`): the
 *   request was not processed, so any request is retried;
 * - 5xx, timeouts and network errors: only requests marked `idempotent` (reads, searches). A
 *   create that fails that way may have been applied; the caller searches again before retrying.
 */
import { PushGuardError } from '../domain/errors.ts';

export interface HttpOptions {
  /** Per-attempt deadline, response body included. @default 10000 */
  timeoutMs?: number;
  /** Attempts per request, the first included. @default 4 */
  attempts?: number;
  /** First backoff; doubles each retry, full jitter. @default 500 */
  baseDelayMs?: number;
  /** Longest wait this client accepts (Retry-After beyond it fails the request). @default 60000 */
  maxDelayMs?: number;
  /**
   * Time one request may take in all, attempts and waits included: an attempt gets at most what
   * is left, and a wait that would not leave room for another attempt fails the request at once.
   * Keeps every retry inside the calling function's timeout. @default 30000
   */
  budgetMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  fetch?: typeof fetch;
}

/** A SaaS API refused or failed a request; `status` is absent for network errors and timeouts. */
export class SaasRequestError extends PushGuardError {
  readonly service: string;
  readonly status?: number;
  readonly retryable: boolean;
  constructor(service: string, what: string, reason: string, status?: number, retryable = false) {
    super(`${service} ${what}: ${reason}`);
    this.service = service;
    this.status = status;
    this.retryable = retryable;
  }
}

export interface JsonRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  /** Safe to repeat after a 5xx or a timeout. */
  idempotent: boolean;
  /** For messages: `create issue`, `search`... */
  what: string;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Milliseconds to wait from Retry-After (seconds or HTTP date) or GitHub's rate-limit reset. */
function serverDelay(res: Response, now: number): number | undefined {
  const retryAfter = res.headers.get('retry-after');
  if (retryAfter !== null) {
    const secs = Number(retryAfter);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  if (res.headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now);
  }
  return undefined;
}

function isRateLimited(res: Response): boolean {
  if (res.status === 429) return true;
  return (
    res.status === 403 &&
    (res.headers.get('x-ratelimit-remaining') === '0' || res.headers.has('retry-after'))
  );
}

export class SaasHttp {
  private readonly opts: Required<HttpOptions>;
  constructor(
    private readonly service: string,
    options: HttpOptions = {}
  ) {
    this.opts = {
      timeoutMs: options.timeoutMs ?? 10_000,
      attempts: Math.max(1, options.attempts ?? 4),
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 60_000,
      budgetMs: options.budgetMs ?? 30_000,
      now: options.now ?? Date.now,
      sleep: options.sleep ?? defaultSleep,
      random: options.random ?? Math.random,
      fetch: options.fetch ?? ((...args) => fetch(...args)),
    };
  }

  /** Sends the request, retrying as described above; resolves to the parsed JSON body. */
  async json<T>(req: JsonRequest): Promise<T> {
    const deadline = this.opts.now() + this.opts.budgetMs;
    const left = () => deadline - this.opts.now();
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.opts.attempts;
      let res: Response;
      let text: string;
      try {
        res = await this.opts.fetch(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(Math.max(1, Math.min(this.opts.timeoutMs, left()))),
          redirect: 'error',
        });
        text = await res.text();
      } catch (err) {
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        if (!req.idempotent || last || left() <= 0) {
          throw new SaasRequestError(this.service, req.what, reason, undefined, true);
        }
        await this.wait(req, this.backoffMs(attempt), left(), reason);
        continue;
      }
      if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
      const limited = isRateLimited(res);
      const retryable = limited || res.status >= 500;
      const reason = `HTTP ${res.status} ${text.slice(0, 300)}`;
      if (!retryable || last || (!limited && !req.idempotent)) {
        throw new SaasRequestError(this.service, req.what, reason, res.status, retryable);
      }
      const wait = serverDelay(res, this.opts.now());
      if (wait !== undefined && wait > this.opts.maxDelayMs) {
        throw new SaasRequestError(
          this.service,
          req.what,
          `${reason} (retry in ${wait} ms)`,
          res.status,
          true
        );
      }
      await this.wait(req, wait ?? this.backoffMs(attempt), left(), reason, res.status);
    }
  }

  /** Sleeps `ms` when that leaves time for another attempt; otherwise fails the request now. */
  private async wait(
    req: JsonRequest,
    ms: number,
    left: number,
    reason: string,
    status?: number
  ): Promise<void> {
    if (ms >= left) {
      const why = `${reason} (retry budget of ${this.opts.budgetMs} ms spent)`;
      throw new SaasRequestError(this.service, req.what, why, status, true);
    }
    await this.opts.sleep(ms);
  }

  /** Full-jitter exponential backoff before attempt `attempt + 1`, in ms. */
  backoffMs(attempt: number): number {
    const cap = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.opts.random() * cap);
  }

  /** Full-jitter exponential backoff before attempt `attempt + 1`. */
  backoff(attempt: number): Promise<void> {
    return this.opts.sleep(this.backoffMs(attempt));
  }

  /** The most one request can take, attempts and waits included. */
  get budgetMs(): number {
    return this.opts.budgetMs;
  }

  get attempts(): number {
    return this.opts.attempts;
  }
}

/** Runs tasks with the same key one after another (two findings for one ticket never race). */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
