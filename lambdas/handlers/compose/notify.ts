/** Composition root of `notify`: the Slack webhook URL from Secrets Manager. No Redis, no VPC. */
import { SlackNotifier } from '../../adapters/slack-notifier.ts';
import { type DeliverOptions, type NotifyDeps, worstDeliveryMs } from '../../app/notify.ts';
import { type Env, loadConfig } from '../../config.ts';
import { secrets } from './secrets.ts';

/** Per-request Slack deadline and retries: worst case 3 × 6 s + 0.5 s + 1 s, inside 30 s. */
export const SLACK_TIMEOUT_MS = 6000;
export const NOTIFY_DELIVERY: DeliverOptions = { attempts: 3, baseDelayMs: 500, maxDelayMs: 2000 };
export const NOTIFY_WORST_MS = worstDeliveryMs(NOTIFY_DELIVERY, SLACK_TIMEOUT_MS);

export async function composeNotify(env: Env = process.env): Promise<NotifyDeps> {
  const { integrations } = loadConfig('notify', env);
  if (!integrations.slack) return { notifiers: [], deliverOptions: NOTIFY_DELIVERY };
  const url = await secrets().get(integrations.slack.webhookSecretArn);
  return {
    notifiers: [new SlackNotifier({ defaultWebhookUrl: url, timeoutMs: SLACK_TIMEOUT_MS })],
    deliverOptions: NOTIFY_DELIVERY,
  };
}
