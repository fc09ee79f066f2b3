/**
 * Delivers one notification to every notifier (SNS, Slack...).
 * 1. Each notifier is tried on its own, in parallel with the others.
 * 2. A failure is retried with exponential backoff and full jitter, up to `attempts` tries, unless
 *    the error says it is permanent (`retryable === false`: a 4xx such as a bad webhook URL).
 * 3. Nothing throws: the report lists what failed so the caller can re-enqueue it. A failed
 *    notification never blocks or undoes a remediation.
 */
import type { Notification, Notifier } from '../ports.ts';

export interface DeliverOptions {
  /** Tries per notifier, the first included. @default 4 */
  attempts?: number;
  /** First backoff; doubles each retry. @default 500 */
  baseDelayMs?: number;
  /** Longest single backoff. @default 30000 */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** What the `notify` function delivers with (lambdas/handlers/notify.ts). */
export interface NotifyDeps {
  notifiers: readonly Notifier[];
  deliverOptions?: DeliverOptions;
}

export interface DeliveryReport {
  delivered: number;
  failed: { notifier: string; error: string }[];
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `name` when the notifier has one, else its class name. */
export function notifierName(n: Notifier, index: number): string {
  const named = (n as { name?: unknown }).name;
  if (typeof named === 'string' && named) return named;
  const cls = (n as object).constructor?.name;
  return cls && cls !== 'Object' ? cls : `notifier-${index}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The longest deliver() can take per notifier: every attempt timing out, every backoff at its cap. */
export function worstDeliveryMs(options: DeliverOptions, attemptTimeoutMs: number): number {
  const attempts = Math.max(1, options.attempts ?? 4);
  const base = options.baseDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 30_000;
  let total = attempts * attemptTimeoutMs;
  for (let a = 1; a < attempts; a++) total += Math.min(maxDelay, base * 2 ** (a - 1));
  return total;
}

export async function deliver(
  notification: Notification,
  notifiers: readonly Notifier[],
  options: DeliverOptions = {}
): Promise<DeliveryReport> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const base = options.baseDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  const one = async (n: Notifier): Promise<string | undefined> => {
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await n.notify(notification);
        return undefined;
      } catch (err) {
        last = err;
        if ((err as { retryable?: unknown })?.retryable === false || attempt === attempts) break;
        try {
          await sleep(Math.floor(random() * Math.min(maxDelay, base * 2 ** (attempt - 1))));
        } catch {
          break;
        }
      }
    }
    return errorText(last);
  };

  const results = await Promise.all(notifiers.map((n) => one(n).catch(errorText)));
  const report: DeliveryReport = { delivered: 0, failed: [] };
  results.forEach((error, i) => {
    if (error === undefined) report.delivered++;
    else report.failed.push({ notifier: notifierName(notifiers[i] as Notifier, i), error });
  });
  return report;
}
