/**
 * `notify` handler driven with SNS events whose Message is what SnsNotifier publishes, delivering
 * to a local Slack incoming-webhook stand-in on 127.0.0.1 that checks the requests.
 */
import type { SnsEvent } from '@aws-lambda-powertools/parser/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../lambdas/adapters/slack-notifier.ts';
import { notificationAttributes, notificationJson } from '../../lambdas/domain/messages.ts';
import { makeHandler } from '../../lambdas/handlers/notify.ts';
import type { Notification } from '../../lambdas/ports.ts';
import { type FakeSaas, startFakeSaas } from '../support/fake-saas.ts';
import { lambdaContext } from './support.ts';

const DIGEST = 'sha256:d072586aa4ec0d482c731fb91a40e149586e7e89cf1cd68ae81f57daf525039a';
const notification: Notification = {
  finding: {
    id: `manifest-data-missing|team-a/payments-api|${DIGEST}`,
    kind: 'manifest-data-missing',
    repository: 'team-a/payments-api',
    digest: DIGEST,
    tag: '1.4.2',
    firstSeen: '2024-07-03T13:16:39.812Z',
    lastSeen: '2024-07-03T13:31:39.812Z',
    evidence: ['check manifest docker/registry/v2/blobs/sha256/d0/.../data → missing'],
    verified: true,
    action: 'clear-cache',
  },
  outcome: 'would clear 3 registry cache keys (dry-run)',
  mode: 'dry-run',
  severity: 'critical',
};

function snsEvent(message: string): SnsEvent {
  const attrs = Object.fromEntries(
    Object.entries(notificationAttributes(notification)).map(([k, v]) => [
      k,
      { Type: 'String', Value: v },
    ])
  );
  return {
    Records: [
      {
        EventVersion: '1.0',
        EventSubscriptionArn:
          'arn:aws:sns:eu-west-1:123456789012:PushGuardFindings:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55',
        EventSource: 'aws:sns',
        Sns: {
          SignatureVersion: '1',
          Timestamp: '2024-07-03T13:31:40.000Z',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem',
          MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
          Message: message,
          MessageAttributes: attrs,
          Type: 'Notification',
          UnsubscribeUrl: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe',
          TopicArn: 'arn:aws:sns:eu-west-1:123456789012:PushGuardFindings',
          Subject: 'Manifest data missing',
        },
      },
    ],
  } as SnsEvent;
}

let saas: FakeSaas;

beforeAll(async () => {
  saas = await startFakeSaas({ slackHooks: ['default'] });
});
afterAll(async () => {
  await saas?.stop();
});

describe('Function: notify', () => {
  it('posts the SNS notification to Slack once', async () => {
    const handler = makeHandler({
      notifiers: [new SlackNotifier({ defaultWebhookUrl: saas.slackHookUrl('default') })],
    });
    await handler(snsEvent(notificationJson(notification)), lambdaContext('notify'));
    expect(saas.slack).toHaveLength(1);
    expect(JSON.stringify(saas.slack[0]!.body)).toContain('team-a/payments-api');
  });

  it('throws (Lambda retries, then the failure queue) when Slack keeps failing', async () => {
    const before = saas.slack.length;
    saas.failNext({ status: 500, times: 2 });
    const handler = makeHandler({
      notifiers: [new SlackNotifier({ defaultWebhookUrl: saas.slackHookUrl('default') })],
      deliverOptions: { attempts: 2, sleep: async () => {} },
    });
    await expect(
      handler(snsEvent(notificationJson(notification)), lambdaContext('notify'))
    ).rejects.toThrow(/failed/);
    expect(saas.slack.length).toBe(before);
  });

  it('refuses a message that is not a notification', async () => {
    const handler = makeHandler({ notifiers: [] });
    await expect(handler(snsEvent('{"hello":"world"}'), lambdaContext('notify'))).rejects.toThrow();
  });
});
