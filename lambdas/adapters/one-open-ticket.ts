/**
 * "Ensure one open ticket" for any tracker: one open ticket per (kind, repository, digest), found
 * by its deterministic label.
 * 1. find the open ticket carrying the label;
 * 2. found: comment on it (or skip, as configured) and return it;
 * 3. not found: create it; a create that failed with a 5xx or a timeout is retried only after
 *    searching again (it may have been created after all).
 * Calls for the same label run one after another, so two findings never race to two tickets.
 * Each tracker (Jira, GitHub) supplies the three calls over its own API as a `TrackerCalls`.
 */
import { ticketLabel } from '../domain/messages.ts';
import type { Finding } from '../domain/types.ts';
import type { TicketRef } from '../ports.ts';
import { KeyedQueue, type SaasHttp, SaasRequestError } from './saas-http.ts';

export interface TicketRequest {
  finding: Finding;
  title: string;
  body: string;
}

/** What one tracker does over its own API; `T` is its ticket as its API returns it. */
export interface TrackerCalls<T> {
  findOpen(label: string): Promise<T | undefined>;
  comment(ticket: T, finding: Finding): Promise<void>;
  create(label: string, request: TicketRequest): Promise<T>;
  ref(ticket: T, created: boolean): TicketRef;
}

export class OneOpenTicket<T> {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly calls: TrackerCalls<T>,
    /** Its attempts and backoff pace the create retries. */
    private readonly http: SaasHttp,
    private readonly onDuplicate: 'comment' | 'skip' = 'comment'
  ) {}

  ensure(request: TicketRequest): Promise<TicketRef> {
    const label = ticketLabel(request.finding);
    return this.queue.run(label, () => this.ensureLabelled(label, request));
  }

  private async ensureLabelled(label: string, request: TicketRequest): Promise<TicketRef> {
    for (let attempt = 1; ; attempt++) {
      const open = await this.calls.findOpen(label);
      if (open !== undefined) {
        if (this.onDuplicate === 'comment') await this.calls.comment(open, request.finding);
        return this.calls.ref(open, false);
      }
      try {
        return this.calls.ref(await this.calls.create(label, request), true);
      } catch (err) {
        const retry = err instanceof SaasRequestError && err.retryable;
        if (!retry || attempt >= this.http.attempts) throw err;
        await this.http.backoff(attempt);
      }
    }
  }
}
