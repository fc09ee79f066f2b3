/**
 * Webhook ingress (runtime-neutral: the API Gateway handler and `pushguard local` both use it).
 *
 * Primary course:
 * 1. Refuse a body over 64 KB with 413, before decoding or parsing it.
 * 2. Compare the `Authorization` header with every accepted secret (current and previous) in
 *    constant time: sha256 both sides, `timingSafeEqual`, no early exit. Mismatch/missing → 401.
 * 3. Parse and normalise the body (normalizeMessage): malformed → 400 with a generic message;
 *    not a Harbor webhook → 400; types PushGuard ignores → 202, nothing enqueued.
 * 4. Derive a dedupe key from the events' own dedupe keys (type, repository, digest, tag,
 *    occur_at); a key seen within 24 h (Harbor retries up to 10 times, ~3 h) → 200, nothing enqueued.
 * 5. Enqueue the raw body and answer 202 at once. If enqueueing fails, forget the dedupe key and
 *    answer 503 so Harbor's retry gets through.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { MalformedEventError } from '../domain/errors.ts';
import { normalizeMessage } from '../domain/events.ts';

/** Largest body accepted, in bytes. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;
/** How long a delivery is remembered (covers Harbor's whole retry horizon). */
export const WEBHOOK_DEDUPE_TTL_SECONDS = 24 * 3600;

export interface WebhookRequest {
  headers: Readonly<Record<string, string | undefined>> | null | undefined;
  body: string | null | undefined;
  isBase64Encoded?: boolean;
}

export interface WebhookResponse {
  statusCode: number;
  body: string;
}

export interface WebhookDeps {
  /** Accepted Authorization values, current first; rotation keeps the previous one too. */
  secrets: () => Promise<readonly string[]>;
  /** Where accepted deliveries go (SQS in AWS, in-process locally). */
  queue: { send(body: string, dedupeId: string): Promise<void> };
  /** `true` the first time a key is seen within `ttlSeconds`. */
  dedupe: {
    firstSeen(key: string, ttlSeconds: number): Promise<boolean>;
    /** Forgets a key (the delivery was not enqueued after all). */
    release?(key: string): Promise<void>;
  };
  /** Optional observer for logs and metrics (never receives the body or the header). */
  onOutcome?: (outcome: WebhookOutcome) => void;
}

export type WebhookOutcome =
  | 'too-large'
  | 'unauthorized'
  | 'malformed'
  | 'ignored'
  | 'duplicate'
  | 'enqueued'
  | 'enqueue-failed';

const digest = (s: string | Buffer) => createHash('sha256').update(s).digest();

/** Constant-time membership test: every secret is compared, whatever matched before. */
export function authorizationMatches(given: string | undefined, secrets: readonly string[]) {
  const g = digest(given ?? '');
  let ok = 0;
  for (const s of secrets) {
    ok |= Number(timingSafeEqual(g, digest(s)) && s.length > 0);
  }
  return ok === 1 && given !== undefined;
}

function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function reply(statusCode: number, message: string): WebhookResponse {
  return { statusCode, body: JSON.stringify({ message }) };
}

/** Largest base64 text that can decode to MAX_WEBHOOK_BODY_BYTES. */
const MAX_BASE64_CHARS = Math.ceil(MAX_WEBHOOK_BODY_BYTES / 3) * 4;

function bodyText(req: WebhookRequest): string | undefined {
  const raw = req.body ?? '';
  if (req.isBase64Encoded) {
    if (raw.length > MAX_BASE64_CHARS) return undefined;
    const buf = Buffer.from(raw, 'base64');
    return buf.length > MAX_WEBHOOK_BODY_BYTES ? undefined : buf.toString('utf8');
  }
  // UTF-16 length ≤ UTF-8 bytes, so a long string is refused without measuring it.
  if (raw.length > MAX_WEBHOOK_BODY_BYTES) return undefined;
  return Buffer.byteLength(raw, 'utf8') > MAX_WEBHOOK_BODY_BYTES ? undefined : raw;
}

export async function acceptWebhook(
  req: WebhookRequest,
  deps: WebhookDeps
): Promise<WebhookResponse> {
  const done = (o: WebhookOutcome, r: WebhookResponse) => {
    deps.onOutcome?.(o);
    return r;
  };
  const text = bodyText(req);
  if (text === undefined) return done('too-large', reply(413, 'payload too large'));
  if (!authorizationMatches(header(req.headers, 'authorization'), await deps.secrets())) {
    return done('unauthorized', reply(401, 'unauthorized'));
  }
  let events: ReturnType<typeof normalizeMessage>['events'];
  try {
    events = normalizeMessage(text).events;
  } catch (err) {
    if (err instanceof MalformedEventError) return done('malformed', reply(400, 'bad request'));
    throw err;
  }
  if (events.some((e) => e.source !== 'harbor')) {
    return done('malformed', reply(400, 'bad request'));
  }
  if (events.length === 0) return done('ignored', reply(202, 'ignored'));
  const key = `webhook:${digest(events.map((e) => e.dedupeKey).join('\n')).toString('hex')}`;
  if (!(await deps.dedupe.firstSeen(key, WEBHOOK_DEDUPE_TTL_SECONDS))) {
    return done('duplicate', reply(200, 'duplicate'));
  }
  try {
    await deps.queue.send(text, key);
  } catch {
    await deps.dedupe.release?.(key).catch(() => undefined);
    return done('enqueue-failed', reply(503, 'try again'));
  }
  return done('enqueued', reply(202, 'accepted'));
}
