/**
 * Notifier on Slack incoming webhooks (@slack/webhook), with a Block Kit message: repository,
 * digest, tag, what was found, what was done (or would be, in dry-run) and the exact re-push
 * command. Each Harbor project (first path component of the repository) can route to its own
 * team's webhook; everything else goes to the default. Webhook URLs are secrets: they never appear
 * in errors. Retries are left to the caller (lambdas/app/notify.ts).
 */
import { IncomingWebhook, type IncomingWebhookSendArguments } from '@slack/webhook';
import { ConfigError } from '../domain/errors.ts';
import { projectOf, slackMessage } from '../domain/messages.ts';
import type { Notification, Notifier } from '../ports.ts';
import { SaasRequestError } from './saas-http.ts';

export interface SlackNotifierOptions {
  /** Webhook for projects without their own. */
  defaultWebhookUrl: string;
  /** Harbor project → that team's webhook. @default {} */
  projectWebhookUrls?: Record<string, string>;
  /** Per-request timeout in ms. @default 10000 */
  timeoutMs?: number;
}

interface WebhookError {
  code?: string;
  original?: { response?: { status?: number; data?: unknown }; code?: string };
}

export class SlackNotifier implements Notifier {
  readonly name = 'slack';
  private readonly hooks = new Map<string, IncomingWebhook>();

  constructor(private readonly options: SlackNotifierOptions) {
    const problems: string[] = [];
    const urls = { default: options.defaultWebhookUrl, ...options.projectWebhookUrls };
    for (const [project, url] of Object.entries(urls)) {
      try {
        const u = new URL(url);
        if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
      } catch {
        problems.push(`slack webhook for ${project} is not an http(s) URL`);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /** The webhook a repository's findings go to. */
  webhookFor(repository: string): string {
    return (
      this.options.projectWebhookUrls?.[projectOf(repository)] ?? this.options.defaultWebhookUrl
    );
  }

  async notify(notification: Notification): Promise<void> {
    const url = this.webhookFor(notification.finding.repository);
    let hook = this.hooks.get(url);
    if (!hook) {
      hook = new IncomingWebhook(url, { timeout: this.options.timeoutMs ?? 10_000 });
      this.hooks.set(url, hook);
    }
    const message = slackMessage(notification) as unknown as IncomingWebhookSendArguments;
    try {
      await hook.send(message);
    } catch (err) {
      const e = (err ?? {}) as WebhookError;
      const status = e.original?.response?.status;
      const detail = typeof e.original?.response?.data === 'string' ? e.original.response.data : '';
      const reason = status
        ? `HTTP ${status} ${detail.slice(0, 100)}`.trim()
        : `request failed (${e.original?.code ?? e.code ?? 'unknown'})`;
      const retryable = status === undefined || status === 429 || status >= 500;
      throw new SaasRequestError('slack', 'post message', reason, status, retryable);
    }
  }
}
