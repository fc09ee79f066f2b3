/**
 * What a notifier is told about one finding (the Notifier port's message), and the ticket a
 * tracker answered with. Plain data: the wording is built from it in messages.ts.
 */
import type { Finding } from './types.ts';

export interface TicketRef {
  id: string;
  url: string;
  /** false when an open ticket for the same (repository, digest, kind) already existed. */
  created: boolean;
}

export interface Notification {
  finding: Finding;
  /** What was done, or would be in dry-run. */
  outcome: string;
  mode: 'dry-run' | 'enforce';
  repushCommand?: string;
  severity: 'info' | 'warning' | 'critical';
  ticket?: TicketRef;
}
