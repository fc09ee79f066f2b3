/**
 * Notifier on Slack incoming webhooks (one JSON POST per message, global fetch: @slack/webhook
 * would bring axios and mime-db, half the notify bundle), with a Block Kit message: repository,
 * digest, tag, what was found, what was done (or would be, in dry-run) and the exact re-push
 * command. Each Harbor project (first path component of the repository) can route to its own
 * team's webhook; everything else goes to the default. Webhook URLs are secrets: they never appear
 * in errors. Retries are left to the caller (lambdas/app/notify.ts).
 */
import { ConfigError } from '../domain/errors.ts';
import { projectOf, slackMessage } from '../domain/messages.ts';
import type { Notification, Notifier } from '../ports.ts';
import { SaasRequestError } from './saas-http.ts';

export interface SlackNotifierOptions {
  /** Webhook for projects without their own. */
  defaultWebhookUrl: string;
  /** Harbor project → that team's webhook (a plain object is read by its own entries). */
  projectWebhookUrls?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** Per-request timeout in ms. @default 10000 */
  timeoutMs?: number;
}

export class SlackNotifier implements Notifier {
  readonly name = 'slack';
  /** Project names are data (a project may be called `constructor`): looked up in a Map. */
  private readonly byProject: ReadonlyMap<string, string>;
  constructor(private readonly options: SlackNotifierOptions) {
    const problems: string[] = [];
    const routes = options.projectWebhookUrls;
    this.byProject =
      routes instanceof Map ? new Map(routes) : new Map(Object.entries(routes ?? {}));
    const urls: [string, string][] = [['the default', options.defaultWebhookUrl]];
    for (const [project, url] of this.byProject) urls.push([`project ${project}`, url]);
    for (const [project, url] of urls) {
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
    return this.byProject.get(projectOf(repository)) ?? this.options.defaultWebhookUrl;
  }

  async notify(notification: Notification): Promise<void> {
    const url = this.webhookFor(notification.finding.repository);
    let res: Response;
    let detail: string;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(slackMessage(notification)),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        redirect: 'error',
      });
      detail = await res.text();
    } catch (err) {
      // The URL is a secret: only the error's name and code, never its message.
      const code = (err as { cause?: { code?: string } }).cause?.code;
      const name = err instanceof Error ? err.name : 'Error';
      throw new SaasRequestError(
        'slack',
        'post message',
        `request failed (${code ?? name})`,
        undefined,
        true
      );
    }
    if (res.ok) return;
    const status = res.status;
    const retryable = status === 429 || status >= 500;
    const reason = `HTTP ${status} ${detail.slice(0, 100)}`.trim();
    throw new SaasRequestError('slack', 'post message', reason, status, retryable);
  }
}
