/**
 * The artifact as it ships: the six bundles from cdk.out (synthesized once, offline), each run with
 * the environment its template gives it against redis-server (AUTH from the Secrets Manager
 * stand-in), fauxqs (behind an If-None-Match-honouring S3 front) and the fake Slack/Jira. One
 * story, in order: a Harbor webhook, the registry's S3 events of a stale re-push (e1, e2, e3),
 * window-check publishing the finding, remediate clearing it (enforce), the sweep clearing it
 * again after the cache is re-seeded, notify forwarding the topic's message to Slack.
 * Then every AWS call each function made is checked against its synthesized role
 * (@cloud-copilot/iam-simulate): none denied, no grant unused (except those AWS uses on the
 * function's behalf, listed with their reason in lib/stacks/pipeline-helpers.ts), and each used
 * grant needed (taking it away denies a call).
 */
import { readFileSync } from 'node:fs';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GRANTS_USED_BY_AWS } from '../../lib/stacks/pipeline-helpers.ts';
import { apiEvent, drainQueue, fixture, sqsEvent, sqsLambdaEvent } from '../handlers/support.ts';
import { STALE } from '../integration/remediate.helpers.ts';
import { clearDb, seedFromTrace } from '../support/seed-registry-cache.ts';
import {
  denied,
  type Grant,
  grantsOf,
  iamRequestsOf,
  type Statement,
  uniqueRequests,
  usedGrants,
  without,
} from './support/iam.ts';
import { makeResolver } from './support/resolve.ts';
import { REDIS_PASSWORD, type Rig, startRig, WEBHOOK_SECRET } from './support/rig.ts';
import { FUNCTIONS, loadArtifact } from './support/synth.ts';

const trace = (name: string) =>
  readFileSync(new URL(`../fixtures/registry-traces/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
const E3_REDIS = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);
const BODIES = ['e1-push', 'e2-lose-manifest-data', 'e3-repush-stale'].flatMap((n) =>
  trace(`${n}.s3events.ndjson`)
);
const B1 = trace('b1-repush-same.s3events.ndjson');

let rig: Rig;
let registry: Redis;
const queueOf = (env: string) => rig.envOf('webhook')[env] ?? rig.envOf('s3-events')[env]!;

beforeAll(async () => {
  rig = await startRig(await loadArtifact());
  const env = rig.envOf('remediate');
  registry = new Redis({
    host: '127.0.0.1',
    port: rig.redis.port,
    password: REDIS_PASSWORD,
    db: Number(env.REGISTRY_DB),
  });
}, 600_000);

afterAll(async () => {
  registry?.disconnect();
  await rig?.stop();
});

/** The registry's own writes: every object the traces' events name, put or deleted. */
async function replayIntoBucket(lines: string[]): Promise<void> {
  for (const line of lines) {
    for (const r of JSON.parse(line).Records as {
      eventName: string;
      s3: { object: { key: string } };
    }[]) {
      const Key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
      if (r.eventName.startsWith('ObjectCreated')) {
        await rig.aws.s3.send(new PutObjectCommand({ Bucket: 'harbor', Key, Body: 'x' }));
      } else {
        await rig.aws.s3.send(new DeleteObjectCommand({ Bucket: 'harbor', Key }));
      }
    }
  }
}

const scheduled = () => ({
  version: '0',
  id: `e-${Math.random()}`,
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {},
});

describe('the shipped bundles', () => {
  it('are six ESM bundles; notify runs outside the VPC, the others in it', () => {
    const fns = Object.values(rig.art.functions);
    expect(fns.map((f) => f.name).sort()).toEqual(
      ['notify', 'remediate', 's3-events', 'sweep', 'webhook', 'window-check'].sort()
    );
    expect(fns.filter((f) => !f.inVpc).map((f) => f.name)).toEqual(['notify']);
  });

  it('webhook: accepts a signed Harbor push (202, enqueued) and refuses a wrong secret', async () => {
    const push = fixture('harbor-webhooks/harbor_webhook_push_artifact_default.json');
    const ok = (await rig.invoke('webhook', apiEvent(push, { Authorization: WEBHOOK_SECRET }))) as {
      statusCode: number;
    };
    const bad = (await rig.invoke('webhook', apiEvent(push, { Authorization: 'Bearer no' }))) as {
      statusCode: number;
    };
    expect([ok.statusCode, bad.statusCode]).toEqual([202, 401]);
    const queued = await drainQueue(rig.aws.sqs, queueOf('EVENTS_QUEUE_URL'));
    expect(queued).toHaveLength(1);
    expect(queued[0]).toContain('team-a/payments-api');
  });

  it('s3-events: ingests the stale re-push trace with no failed record', async () => {
    await replayIntoBucket([...trace('a-normal-push.s3events.ndjson'), ...BODIES]);
    for (let i = 0; i < BODIES.length; i += 10) {
      const res = (await rig.invoke('s3-events', sqsEvent(BODIES.slice(i, i + 10), `b${i}`))) as {
        batchItemFailures: unknown[];
      };
      expect(res.batchItemFailures).toEqual([]);
    }
    // b1 re-pushes image a, whose manifest data is gone (as in e3), while S3 reads fail: its
    // checks stay for window-check, which gets a 404 (that takes s3:ListBucket).
    const revision = /_manifests\/revisions\/sha256\/([0-9a-f]{64})\/link/.exec(B1.join('\n'))![1]!;
    await rig.aws.s3.send(
      new DeleteObjectCommand({
        Bucket: 'harbor',
        Key: `harbor/docker/registry/v2/blobs/sha256/${revision.slice(0, 2)}/${revision}/data`,
      })
    );
    rig.s3.readsDown = true;
    try {
      const res = (await rig.invoke('s3-events', sqsEvent(B1, 'b1'))) as {
        batchItemFailures: unknown[];
      };
      expect(res.batchItemFailures).toEqual([]);
    } finally {
      rig.s3.readsDown = false;
    }
  });

  it('window-check: publishes the manifest-data-missing finding once the window closes', async () => {
    const findingsUrl = queueOf('FINDINGS_QUEUE_URL');
    let findings: string[] = [];
    // Each scheduled run closes what is due; run it until the finding reaches the queue.
    await vi.waitFor(
      async () => {
        await rig.invoke('window-check', scheduled());
        findings = await drainQueue(rig.aws.sqs, findingsUrl);
        expect(findings).not.toEqual([]);
      },
      { timeout: 30_000, interval: 250 }
    );
    const parsed = findings.map(
      (f) => JSON.parse(f) as { kind: string; digest: string; verified: boolean }
    );
    expect(
      parsed.filter((f) => f.kind === 'manifest-data-missing' && f.digest === STALE)
    ).toHaveLength(1);
    found.push(...findings);
  });

  it('remediate: clears the stale keys (enforce), audit record first, topic told', async () => {
    await clearDb(registry);
    await seedFromTrace(registry, E3_REDIS, 'AFTER');
    expect(await registry.exists(`blobs::${STALE}`)).toBe(1);
    const body = found.find((f) => f.includes(STALE))!;
    const res = (await rig.invoke('remediate', sqsLambdaEvent([body], 'f'))) as {
      batchItemFailures: unknown[];
    };
    expect(res.batchItemFailures).toEqual([]);
    expect(await registry.exists(`blobs::${STALE}`)).toBe(0);
    const audit = await rig.aws.s3.send(new ListObjectsV2Command({ Bucket: rig.auditBucket }));
    expect((audit.Contents ?? []).length).toBeGreaterThanOrEqual(1);
    const told = await drainQueue(rig.aws.sqs, captureOf('FINDINGS_TOPIC_ARN'));
    expect(told.length).toBeGreaterThanOrEqual(1);
    published.push(...told.map((t) => (JSON.parse(t) as { Message: string }).Message));
  });

  it('sweep: finds the re-seeded stale entry and clears it with no fix error', async () => {
    await clearDb(registry);
    await seedFromTrace(registry, E3_REDIS, 'AFTER');
    // Every other cached digest has its data in the bucket: STALE is the one lying entry.
    for (const key of await registry.keys('blobs::sha256:*')) {
      const hex = key.slice('blobs::sha256:'.length);
      if (key === `blobs::${STALE}`) continue;
      const Key = `harbor/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
      await rig.aws.s3.send(new PutObjectCommand({ Bucket: 'harbor', Key, Body: 'x' }));
    }
    const summary = (await rig.invoke('sweep', scheduled())) as {
      stale: number;
      fix: { cleared: number; errors: number };
    };
    expect(summary.stale).toBe(1);
    expect(summary.fix).toMatchObject({ cleared: 1, errors: 0 });
    expect(await registry.exists(`blobs::${STALE}`)).toBe(0);
  });

  it('notify: forwards the topic message remediate published to Slack', async () => {
    const message = published.find((m) => m.includes(STALE))!;
    await rig.invoke('notify', snsEvent(message));
    expect(rig.saas.slack).toHaveLength(1);
    expect(JSON.stringify(rig.saas.slack[0]?.body)).toContain('library/stale');
  });

  it('the stand-ins saw only documented requests', () => {
    expect(rig.sm.refused).toEqual([]);
    expect(rig.sm.asked.length).toBeGreaterThan(0);
  });
});

describe('IAM conformance of what the functions called', () => {
  const statementsOf = (name: (typeof FUNCTIONS)[number]) =>
    makeResolver(rig.art).resolve(rig.art.functions[name].statements) as Statement[];
  const requestsOf = (name: (typeof FUNCTIONS)[number]) =>
    uniqueRequests((rig.calls.get(name) ?? []).flatMap(iamRequestsOf));
  const show = (g: Grant) => `${g.action} on ${g.resource}`;

  it.each(FUNCTIONS)('%s: every AWS call it made is allowed by its role', async (name) => {
    const reqs = requestsOf(name);
    expect(reqs.length).toBeGreaterThan(0);
    const refused = await denied(statementsOf(name), reqs);
    expect(refused.map((r) => `${r.from}: ${r.action} ${r.resource}`)).toEqual([]);
  });

  it.each(FUNCTIONS)(
    '%s: no grant is unused, unless AWS uses it for the function',
    async (name) => {
      const statements = statementsOf(name);
      const used = await usedGrants(statements, requestsOf(name));
      const usedKeys = new Set(used.map(show));
      const byAws = new Set(GRANTS_USED_BY_AWS.map((g) => g.action));
      const unused = grantsOf(statements).filter((g) => !usedKeys.has(show(g)));
      expect(unused.filter((g) => !byAws.has(g.action)).map(show)).toEqual([]);
    }
  );

  it.each(FUNCTIONS)('%s: taking away any grant it used denies one of its calls', async (name) => {
    const statements = statementsOf(name);
    const reqs = requestsOf(name);
    const notNeeded: string[] = [];
    for (const g of await usedGrants(statements, reqs)) {
      if ((await denied(without(statements, g), reqs)).length === 0) notNeeded.push(show(g));
    }
    expect(notNeeded).toEqual([]);
  });
});

const found: string[] = [];
const published: string[] = [];

function captureOf(env: string): string {
  const arn = rig.envOf('remediate')[env]!;
  const id = arn.split(':').pop()!;
  return rig.captures.get(id)!;
}

function snsEvent(message: string) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:findings:sub',
        Sns: {
          Type: 'Notification',
          MessageId: 'm-1',
          TopicArn: 'arn:aws:sns:us-east-1:123456789012:findings',
          Subject: 'PushGuard finding',
          Message: message,
          Timestamp: new Date().toISOString(),
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/cert.pem',
          UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
}
