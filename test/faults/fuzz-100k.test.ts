/**
 * R3 and R10 under garbage: 100,000 fuzzed inputs built from the real fixtures (S3 notifications,
 * SNS and EventBridge envelopes, recorded trace lines, both Harbor webhook formats) by a seeded
 * mutator: fields dropped, retyped, renamed, replaced by huge, empty, glob-laden or unicode
 * values, arrays blown up, JSON text truncated or corrupted, and plain random text.
 *
 * - 50,000 SQS message bodies through ingestBatch (batches of 100, MemoryWindowStore): it never
 *   throws, and every failed record carries a typed PushGuardError;
 * - 50,000 webhook deliveries through acceptWebhook (in-memory queue and dedupe): it never throws
 *   and answers only 200/202/400/401/413, each for its reason; what it enqueues is a Harbor event.
 *
 * A failure prints the seed and the input index, so it can be replayed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../lambdas/adapters/memory-window-store.ts';
import { ingestBatch } from '../../lambdas/app/ingest.ts';
import {
  acceptWebhook,
  MAX_WEBHOOK_BODY_BYTES,
  type WebhookDeps,
} from '../../lambdas/app/webhook-ingress.ts';
import { PushGuardError } from '../../lambdas/domain/errors.ts';
import { normalizeMessage } from '../../lambdas/domain/events.ts';
import type { Finding } from '../../lambdas/domain/types.ts';
import { traceRecords } from '../integration/window-store.helpers.ts';
import { ENGINE, prng } from './faults.helpers.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const SEED = 20_261_125;
const BODIES = 50_000;
const WEBHOOKS = 50_000;
const CURRENT = 'Bearer fuzz-current-6c1e0f';
const PREVIOUS = 'Bearer fuzz-previous-93ab27';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');

const sns = (message: Json): Json => ({
  Type: 'Notification',
  MessageId: '0f5a1e52-52e8-4b0c-9d47-6f2f1d3c7a10',
  TopicArn: 'arn:aws:sns:eu-west-1:111122223333:registry-events',
  Message: JSON.stringify(message),
  Timestamp: '2026-11-25T19:55:40.000Z',
});

const webhookFixtures: Json[] = [
  'harbor-webhooks/harbor_webhook_push_artifact_default.json',
  'harbor-webhooks/harbor_webhook_push_artifact_cloudevents.json',
  'harbor-webhooks/harbor_webhook_quota_exceed_default.json',
].map((p) => JSON.parse(fixture(p)) as Json);

const bodyFixtures: Json[] = (() => {
  const list: Json[] = [
    ...[
      's3-events/s3_event_manifest_revision_link_put.json',
      's3-events/s3_sqs_test_event.json',
      's3-events/eventbridge_object_created_blob_copy.json',
    ].map((p) => JSON.parse(fixture(p)) as Json),
    ...webhookFixtures,
  ];
  const lines = traceRecords(
    'a-normal-push',
    'e1-push',
    'e2-lose-manifest-data',
    'e3-repush-stale'
  );
  for (const r of lines.filter((_, i) => i % 4 === 0)) list.push(JSON.parse(r.body) as Json);
  return [...list, ...list.map(sns)];
})();

const NASTY = [
  '',
  ' ',
  '*',
  '?',
  '[a-z]',
  '../../etc/passwd',
  '%zz%',
  '+',
  'sha256:',
  'sha256:*',
  `sha256:${'g'.repeat(64)}`,
  `sha256:${'A'.repeat(64)}`,
  'blobs::*',
  'docker/registry/v2/blobs/sha256/ab/*/data',
  '\u0000',
  '\ud800',
  'é漢字🙂',
  '\n\r\t',
  'null',
  '{}',
  '1e309',
  '-0',
  '9007199254740993',
];

/** The seeded mutator: every value it returns is JSON text or raw text. */
function mutator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const randomString = (): string => {
    const r = random();
    if (r < 0.4) return pick(NASTY);
    if (r < 0.5) return 'x'.repeat(int(20_000));
    const len = int(40);
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCodePoint(int(random() < 0.8 ? 128 : 0x2ffff));
    return s;
  };
  const randomValue = (depth = 0): Json => {
    const r = random();
    if (r < 0.15) return null;
    if (r < 0.25) return random() < 0.5;
    if (r < 0.45) return pick([0, -1, 1.5, 2 ** 53 + 1, 1e308, -1e308, Number.MAX_SAFE_INTEGER]);
    if (r < 0.75 || depth > 2) return randomString();
    if (r < 0.88) return Array.from({ length: int(4) }, () => randomValue(depth + 1));
    return Object.fromEntries(
      Array.from({ length: int(4) }, () => [randomString(), randomValue(depth + 1)])
    );
  };
  /** Every (container, key) in the tree, to pick a mutation point from. */
  const slots = (v: Json, out: [Json[] | { [k: string]: Json }, string | number][] = []) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push([v, i]);
        slots(x, out);
      });
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        out.push([v, k]);
        slots(v[k]!, out);
      }
    }
    return out;
  };
  const mutateTree = (root: Json): Json => {
    const all = slots(root);
    if (all.length === 0) return randomValue();
    const [container, key] = pick(all);
    const c = container as Record<string | number, Json>;
    const current = c[key]!;
    const r = random();
    if (r < 0.2) {
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete c[key];
    } else if (r < 0.45) {
      c[key] = randomValue();
    } else if (r < 0.6 && typeof current === 'string') {
      const at = int(current.length + 1);
      c[key] = current.slice(0, at) + randomString().slice(0, 30) + current.slice(at + int(5));
    } else if (r < 0.7 && typeof current === 'string') {
      c[key] = current.slice(0, int(current.length));
    } else if (r < 0.78 && !Array.isArray(container)) {
      delete c[key];
      c[randomString().slice(0, 20)] = current;
    } else if (r < 0.86 && Array.isArray(current) && current.length > 0) {
      c[key] = Array.from({ length: 1 + int(300) }, () => structuredClone(current[0]!));
    } else if (r < 0.93) {
      c[key] = typeof current === 'string' ? Number(current) || current.length : String(current);
    } else {
      c[key] = [current];
    }
    return root;
  };
  const corruptText = (text: string): string => {
    const r = random();
    const at = int(text.length + 1);
    if (r < 0.3) return text.slice(0, at);
    if (r < 0.55)
      return text.slice(0, at) + pick(['"', '}', ']', ',', '\\', '\u0000', 'NaN']) + text.slice(at);
    if (r < 0.75) return text.slice(0, at) + text.slice(at + 1 + int(10));
    if (r < 0.85) return `\ufeff${text}`;
    return text.replaceAll('"', pick(["'", '', '""']));
  };
  /** One fuzzed input from `sources`; sometimes wrapped in SNS again after the mutation. */
  return (sources: readonly Json[]): string => {
    const r = random();
    if (r < 0.04) return randomString();
    let v = structuredClone(pick(sources));
    const n = 1 + int(4);
    for (let i = 0; i < n; i++) v = mutateTree(v);
    if (random() < 0.1) v = sns(v);
    const text = JSON.stringify(v) ?? 'null';
    return random() < 0.2 ? corruptText(text) : text;
  };
}

describe('fuzz 100k: ingest and webhook never crash, only typed errors and 4xx', () => {
  it(`R3 fuzz: ${BODIES.toLocaleString('en-US')} mutated message bodies through ingestBatch fail alone with typed errors`, async () => {
    const fuzz = mutator(prng(SEED));
    const store = new MemoryWindowStore({ engine: ENGINE });
    const published: Finding[] = [];
    const deps = {
      store,
      publisher: { publish: async (f: readonly Finding[]) => void published.push(...f) },
      clock: { now: () => Date.parse('2026-11-25T20:00:00Z'), sleep: async () => {} },
      rootDirectory: 'harbor',
    };
    let failed = 0;
    let applied = 0;
    for (let start = 0; start < BODIES; start += 100) {
      const batch = Array.from({ length: 100 }, (_, i) => ({
        id: String(start + i),
        body: fuzz(bodyFixtures),
      }));
      let result: Awaited<ReturnType<typeof ingestBatch>>;
      try {
        result = await ingestBatch(batch, deps);
      } catch (err) {
        throw new Error(`ingestBatch threw on batch at ${start} (seed ${SEED}): ${err}`);
      }
      for (const f of result.failures) {
        if (!(f.error instanceof PushGuardError)) {
          const body = batch.find((b) => b.id === f.id)?.body.slice(0, 300);
          throw new Error(`record ${f.id} (seed ${SEED}) failed untyped: ${f.error}\n${body}`);
        }
      }
      expect(result.failures.length + result.skipped).toBeLessThanOrEqual(batch.length);
      failed += result.failures.length;
      applied += result.events;
    }
    // The fuzzer reached both sides: plenty of bad records, and valid events applied.
    expect(failed).toBeGreaterThan(BODIES / 10);
    expect(applied).toBeGreaterThan(BODIES / 10);
  });

  it(`R10 fuzz: ${WEBHOOKS.toLocaleString('en-US')} mutated webhook deliveries answer 200/202/400/401/413, never throw`, async () => {
    const random = prng(SEED + 1);
    const fuzz = mutator(random);
    const queued: string[] = [];
    const seen = new Set<string>();
    const deps: WebhookDeps = {
      secrets: async () => [CURRENT, PREVIOUS],
      queue: { send: async (body) => void queued.push(body) },
      dedupe: {
        firstSeen: async (key) => !seen.has(key) && Boolean(seen.add(key)),
        release: async (key) => void seen.delete(key),
      },
    };
    const counts = new Map<number, number>();
    for (let i = 0; i < WEBHOOKS; i++) {
      let body = fuzz(webhookFixtures);
      const r = random();
      const auth =
        r < 0.8 ? CURRENT : r < 0.88 ? PREVIOUS : r < 0.94 ? `${CURRENT.slice(0, -1)}x` : undefined;
      if (random() < 0.01) body = body + ' '.repeat(MAX_WEBHOOK_BODY_BYTES);
      const base64 = random() < 0.05;
      const headers: Record<string, string | undefined> =
        auth === undefined ? {} : { [random() < 0.5 ? 'Authorization' : 'authorization']: auth };
      let res: Awaited<ReturnType<typeof acceptWebhook>>;
      try {
        res = await acceptWebhook(
          {
            headers,
            body: base64 ? Buffer.from(body).toString('base64') : body,
            isBase64Encoded: base64,
          },
          deps
        );
      } catch (err) {
        throw new Error(`acceptWebhook threw on input ${i} (seed ${SEED + 1}): ${err}`);
      }
      counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
      // The oracle: the mutations alone can also grow a body past the limit.
      const expected =
        Buffer.byteLength(body) > MAX_WEBHOOK_BODY_BYTES
          ? [413]
          : auth !== CURRENT && auth !== PREVIOUS
            ? [401]
            : [200, 202, 400];
      let bodyIsJson = true;
      try {
        JSON.parse(res.body);
      } catch {
        bodyIsJson = false;
      }
      if (!expected.includes(res.statusCode) || !bodyIsJson) {
        expect.fail(
          `input ${i} (seed ${SEED + 1}): ${res.statusCode} ${res.body}, expected ${expected.join('/')}`
        );
      }
    }
    // Everything enqueued is a Harbor event PushGuard acts on.
    for (const body of queued) {
      const events = normalizeMessage(body).events;
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.source === 'harbor')).toBe(true);
    }
    // Every answer class was reached.
    for (const code of [200, 202, 400, 401, 413]) expect(counts.get(code) ?? 0).toBeGreaterThan(0);
  });
});
