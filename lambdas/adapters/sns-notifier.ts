/**
 * Notifier on an SNS topic: the message is the notification as JSON, and `severity`, `project`,
 * `repository` and `kind` travel as String message attributes so each team subscribes with a
 * filter policy (e.g. `{"project": ["team-a"], "severity": ["critical"]}`). The only file that
 * imports @aws-sdk/client-sns.
 */
import {
  type MessageAttributeValue,
  PublishCommand,
  SNSClient,
  type SNSClientConfig,
} from '@aws-sdk/client-sns';
import { notificationAttributes, notificationJson, ticketTitle } from '../domain/messages.ts';
import type { Notification, Notifier } from '../ports.ts';
import type { ClientOrConfig } from './client-or-config.ts';

export type SnsNotifierOptions = {
  topicArn: string;
  /** Deadline of one publish. @default 5000 */
  timeoutMs?: number;
} & ClientOrConfig<SNSClient, SNSClientConfig>;

/** SNS subjects (email subscriptions) are ASCII, one line, at most 100 characters. */
function subject(n: Notification): string {
  const s = ticketTitle(n.finding)
    .replace(/[^\x20-\x7e]/g, '')
    .trim();
  return (s || 'PushGuard finding').slice(0, 100);
}

export class SnsNotifier implements Notifier {
  readonly name: string;
  private readonly client: SNSClient;
  private readonly ownsClient: boolean;

  constructor(private readonly options: SnsNotifierOptions) {
    this.name = `sns:${options.topicArn.split(':').pop() ?? options.topicArn}`;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new SNSClient(options.clientConfig ?? {});
  }

  async notify(notification: Notification): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {};
    for (const [k, v] of Object.entries(notificationAttributes(notification))) {
      attributes[k] = { DataType: 'String', StringValue: v };
    }
    await this.client.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        Subject: subject(notification),
        Message: notificationJson(notification),
        MessageAttributes: attributes,
      }),
      { abortSignal: AbortSignal.timeout(this.options.timeoutMs ?? 5000) }
    );
  }

  destroy(): void {
    if (this.ownsClient) this.client.destroy();
  }
}
