import {
  CreateTopicCommand,
  type MessageAttributeValue,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SaasRequestError } from '../../lambdas/adapters/saas-http.ts';
import { SlackNotifier } from '../../lambdas/adapters/slack-notifier.ts';
import { SnsNotifier } from '../../lambdas/adapters/sns-notifier.ts';
import { deliver } from '../../lambdas/app/notify.ts';
import { ConfigError } from '../../lambdas/domain/errors.ts';
import type { Finding } from '../../lambdas/domain/types.ts';
import type { Notification, Notifier } from '../../lambdas/ports.ts';
import { type FakeSaas, startFakeSaas } from '../support/fake-saas.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';

const DIGEST = `sha256:${'d'.repeat(64)}`;

function notification(repository: string, over: Partial<Notification> = {}): Notification {
  const finding: Finding = {
    id: `manifest-data-missing|${repository}|${DIGEST}`,
    kind: 'manifest-data-missing',
    repository,
    digest: DIGEST,
    tag: '1.4.2',
    firstSeen: '2026-11-25T10:00:00.000Z',
    lastSeen: '2026-11-25T10:00:00.000Z',
    evidence: ['HeadObject 404'],
    verified: true,
    action: 'clear-cache',
  };
  return {
    finding,
    outcome: `cleared blobs::${DIGEST}`,
    mode: 'enforce',
    repushCommand: `docker push harbor.example.com/${repository}:1.4.2`,
    severity: 'warning',
    ...over,
  };
}

describe('Adapter: SnsNotifier (fauxqs SNS → SQS with filter policies)', () => {
  let aws: TestAws;
  let topicArn: string;
  const queues: Record<string, string> = {};

  async function drain(name: string): Promise<Message[]> {
    const out: Message[] = [];
    for (;;) {
      const res = await aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues[name],
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        })
      );
      if (!res.Messages?.length) return out;
      out.push(...res.Messages);
    }
  }

  beforeAll(async () => {
    aws = await startFauxqs();
    topicArn = (await aws.sns.send(new CreateTopicCommand({ Name: 'pushguard-findings' })))
      .TopicArn as string;
    const policies = {
      'team-a': { project: ['team-a'] },
      critical: { severity: ['critical'] },
    };
    for (const [name, policy] of Object.entries(policies)) {
      const url = (await aws.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
      queues[name] = url;
      const arn = (
        await aws.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })
        )
      ).Attributes?.QueueArn;
      await aws.sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: arn,
          Attributes: { FilterPolicy: JSON.stringify(policy) },
        })
      );
    }
  });
  afterAll(async () => {
    await aws.stop();
  });
  beforeEach(async () => {
    await drain('team-a');
    await drain('critical');
  });

  it('routes by project and severity: each subscription gets only what its filter policy matches', async () => {
    // Prepare
    const sns = new SnsNotifier({ client: aws.sns, topicArn });
    // Act
    await sns.notify(notification('team-a/payments-api', { severity: 'warning' }));
    await sns.notify(notification('team-b/search', { severity: 'critical' }));
    await sns.notify(notification('team-a/web', { severity: 'critical' }));
    // Assess
    const repos = (ms: Message[]) =>
      ms.map(
        (m) => (JSON.parse(JSON.parse(m.Body ?? '{}').Message) as Notification).finding.repository
      );
    expect(repos(await drain('team-a')).sort()).toEqual(['team-a/payments-api', 'team-a/web']);
    expect(repos(await drain('critical')).sort()).toEqual(['team-a/web', 'team-b/search']);
  });

  it('publishes the notification as JSON with String attributes severity, project, repository, kind', async () => {
    const sns = new SnsNotifier({ client: aws.sns, topicArn });
    await sns.notify(notification('team-a/payments-api', { severity: 'critical' }));
    const [message] = await drain('team-a');
    const envelope = JSON.parse(message?.Body ?? '{}') as {
      Message: string;
      Subject?: string;
      MessageAttributes: Record<string, { Type: string; Value: string }>;
    };
    expect(envelope.MessageAttributes).toEqual({
      severity: { Type: 'String', Value: 'critical' },
      project: { Type: 'String', Value: 'team-a' },
      repository: { Type: 'String', Value: 'team-a/payments-api' },
      kind: { Type: 'String', Value: 'manifest-data-missing' },
    });
    const body = JSON.parse(envelope.Message);
    expect(body.finding.digest).toBe(DIGEST);
    expect(body.repushCommand).toBe('docker push harbor.example.com/team-a/payments-api:1.4.2');
    expect(envelope.Subject).toBe('[PushGuard] Manifest data missing: team-a/payments-api:1.4.2');
    // The copy in the other queue carries the same attributes.
    const critical = await drain('critical');
    expect(critical).toHaveLength(1);
    const attrs = (
      JSON.parse(critical[0]?.Body ?? '{}') as {
        MessageAttributes: Record<string, MessageAttributeValue>;
      }
    ).MessageAttributes;
    expect(Object.keys(attrs).sort()).toEqual(['kind', 'project', 'repository', 'severity']);
  });

  it('reports an unreachable topic through deliver() instead of throwing', async () => {
    const sns = new SnsNotifier({
      clientConfig: {
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        credentials: { accessKeyId: 't', secretAccessKey: 't' },
        maxAttempts: 1,
      },
      topicArn,
    });
    const sleeps: number[] = [];
    const report = await deliver(notification('team-a/x'), [sns], {
      attempts: 2,
      sleep: async (ms) => void sleeps.push(ms),
    });
    sns.destroy();
    expect(report.delivered).toBe(0);
    expect(report.failed).toEqual([
      { notifier: 'sns:pushguard-findings', error: expect.any(String) },
    ]);
    expect(sleeps).toHaveLength(1);
  });
});

describe('Adapter: SlackNotifier (incoming webhooks, Block Kit)', () => {
  let saas: FakeSaas;
  beforeAll(async () => {
    saas = await startFakeSaas({ slackHooks: ['default', 'team-a'] });
  });
  afterAll(async () => {
    await saas.stop();
  });
  beforeEach(() => {
    saas.slack.length = 0;
    saas.requests.length = 0;
  });

  const slack = () =>
    new SlackNotifier({
      defaultWebhookUrl: saas.slackHookUrl('default'),
      projectWebhookUrls: { 'team-a': saas.slackHookUrl('team-a') },
    });

  it('routes each finding to its project webhook, else the default', async () => {
    const n = slack();
    await n.notify(notification('team-a/payments-api'));
    await n.notify(notification('team-b/search'));
    expect(saas.slack.map((d) => [d.hook, d.body.text])).toEqual([
      [
        'team-a',
        `:warning: PushGuard: Manifest data missing in team-a/payments-api (sha256:dddddddddddd)`,
      ],
      [
        'default',
        `:warning: PushGuard: Manifest data missing in team-b/search (sha256:dddddddddddd)`,
      ],
    ]);
    expect(saas.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('routes projects named after prototype members like any other name', async () => {
    // `constructor` and `__proto__` have no route of their own: the default; `tostring` has one
    const teamA = JSON.stringify(saas.slackHookUrl('team-a'));
    const routes = JSON.parse(`{"__proto__": ${teamA}, "tostring": ${teamA}}`);
    const n = new SlackNotifier({
      defaultWebhookUrl: saas.slackHookUrl('default'),
      projectWebhookUrls: new Map([['tostring', saas.slackHookUrl('team-a')]]),
    });
    await n.notify(notification('constructor/app'));
    await n.notify(notification('tostring/app'));
    await n.notify(notification('valueof/app'));
    expect(saas.slack.map((d) => d.hook)).toEqual(['default', 'team-a', 'default']);
    // a plain object of routes is read by its own entries: `__proto__` is a project name there
    const fromObject = new SlackNotifier({
      defaultWebhookUrl: saas.slackHookUrl('default'),
      projectWebhookUrls: routes,
    });
    expect(fromObject.webhookFor('__proto__/app')).toBe(saas.slackHookUrl('team-a'));
    expect(fromObject.webhookFor('constructor/app')).toBe(saas.slackHookUrl('default'));
  });

  it('posts blocks Slack accepts: header, fields, found, done, re-push code block', async () => {
    await slack().notify(notification('team-a/payments-api', { mode: 'dry-run' }));
    const [req] = saas.requests;
    expect(req?.headers['content-type']).toMatch(/^application\/json/);
    const blocks = saas.slack[0]?.body.blocks as { type: string; text?: { text: string } }[];
    expect(blocks.map((b) => b.type)).toEqual([
      'header',
      'section',
      'section',
      'section',
      'section',
      'context',
    ]);
    const text = JSON.stringify(blocks);
    expect(text).toContain('What would be done (dry-run)');
    expect(text).toContain('```docker push harbor.example.com/team-a/payments-api:1.4.2```');
    expect(text).toContain(DIGEST);
  });

  it('the fake Slack refuses blocks Slack refuses (header over 150, empty section)', async () => {
    const post = (blocks: unknown) =>
      fetch(saas.slackHookUrl('default'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'x', blocks }),
      });
    const long = await post([
      { type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } },
    ]);
    expect([long.status, await long.text()]).toEqual([400, 'invalid_blocks']);
    const empty = await post([{ type: 'section' }]);
    expect(empty.status).toBe(400);
    expect(saas.slack).toHaveLength(0);
  });

  it('a wrong webhook is permanent: deliver() stops after one try and reports it', async () => {
    const wrong = new SlackNotifier({ defaultWebhookUrl: saas.slackHookUrl('gone') });
    const err = await wrong.notify(notification('x/y')).catch((e) => e);
    expect(err).toBeInstanceOf(SaasRequestError);
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('secret');
    saas.requests.length = 0;
    const report = await deliver(notification('x/y'), [wrong], { sleep: async () => {} });
    expect(saas.requests).toHaveLength(1);
    expect(report.failed[0]?.notifier).toBe('slack');
    expect(report.failed[0]?.error).toContain('HTTP 404');
  });

  it('retries a rate-limited or failing webhook with backoff, then delivers', async () => {
    saas.failNext({ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } });
    saas.failNext({ status: 500, body: 'internal_error' });
    const sleeps: number[] = [];
    const report = await deliver(notification('team-a/payments-api'), [slack()], {
      baseDelayMs: 100,
      random: () => 1,
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(report).toEqual({ delivered: 1, failed: [] });
    expect(sleeps).toEqual([100, 200]);
    expect(saas.slack).toHaveLength(1);
  });

  it('refuses webhook URLs that are not http(s)', () => {
    expect(() => new SlackNotifier({ defaultWebhookUrl: 'ftp://x' })).toThrow(ConfigError);
  });
});

describe('Function: deliver()', () => {
  const failing = (times: number, name = 'flaky') => {
    let calls = 0;
    return {
      name,
      get calls() {
        return calls;
      },
      async notify() {
        calls++;
        if (calls <= times) throw new Error(`boom ${calls}`);
      },
    };
  };

  it('never throws: a notifier that always fails is reported after every attempt, others deliver', async () => {
    const bad = failing(99, 'bad');
    const good = failing(0, 'good');
    const sleeps: number[] = [];
    const report = await deliver(notification('a/b'), [bad, good], {
      attempts: 4,
      baseDelayMs: 10,
      random: () => 1,
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(report).toEqual({ delivered: 1, failed: [{ notifier: 'bad', error: 'Error: boom 4' }] });
    expect(bad.calls).toBe(4);
    expect(good.calls).toBe(1);
    expect(sleeps).toEqual([10, 20, 40]);
  });

  it('uses full jitter: the delay is random() times the exponential cap', async () => {
    const sleeps: number[] = [];
    await deliver(notification('a/b'), [failing(2)], {
      baseDelayMs: 1000,
      random: () => 0.25,
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(sleeps).toEqual([250, 500]);
  });

  it('survives a notifier that throws synchronously and one without a name', async () => {
    const sync: Notifier = {
      notify() {
        throw new TypeError('sync');
      },
    };
    const report = await deliver(notification('a/b'), [sync], {
      attempts: 1,
      sleep: async () => {},
    });
    expect(report.failed).toEqual([{ notifier: 'notifier-0', error: 'TypeError: sync' }]);
  });
});
