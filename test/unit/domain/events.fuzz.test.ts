/**
 * Property tests of normalizeMessage: real fixture bodies (S3, SNS, EventBridge, both webhook
 * formats, recorded trace lines) are mutated at random (fields dropped, retyped, replaced, keys
 * renamed, random unicode spliced into strings and keys, JSON text corrupted). Every outcome is
 * either a well-typed NormalizeResult or a MalformedEventError naming a field; nothing else.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEventError } from '../../../lambdas/domain/errors.ts';
import {
  type NormalizeResult,
  normalizeMessage,
  unwrapRecorded,
} from '../../../lambdas/domain/events.ts';
import {
  classifyKey,
  isValidRepositoryName,
  isValidTag,
  parseDigest,
} from '../../../lambdas/domain/keys.ts';
import type { StorageEvent, WebhookEvent } from '../../../lambdas/domain/types.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const read = (path: string) =>
  readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');

const S3_OPS: Record<string, string> = {
  'ObjectCreated:Put': 'created',
  'ObjectCreated:Post': 'created',
  'ObjectCreated:Copy': 'created',
  'ObjectCreated:CompleteMultipartUpload': 'created',
  'ObjectRemoved:Delete': 'removed',
  'ObjectRemoved:DeleteMarkerCreated': 'removed',
  'LifecycleExpiration:Delete': 'removed',
  'LifecycleExpiration:DeleteMarkerCreated': 'removed',
};
const HARBOR_ACTED = ['PUSH_ARTIFACT', 'DELETE_ARTIFACT', 'QUOTA_EXCEED', 'QUOTA_WARNING'];

const sns = (message: Json): Json => ({
  Type: 'Notification',
  MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
  TopicArn: 'arn:aws:sns:eu-west-1:111122223333:registry-events',
  Message: JSON.stringify(message),
  Timestamp: '2024-07-03T13:16:40.000Z',
});

const fixtures: Json[] = (() => {
  const list: Json[] = [];
  for (const f of [
    's3-events/s3_event_manifest_revision_link_put.json',
    's3-events/s3_sqs_test_event.json',
    's3-events/eventbridge_object_created_blob_copy.json',
    'harbor-webhooks/harbor_webhook_push_artifact_default.json',
    'harbor-webhooks/harbor_webhook_push_artifact_cloudevents.json',
    'harbor-webhooks/harbor_webhook_quota_exceed_default.json',
  ]) {
    const body = JSON.parse(read(f)) as Json;
    list.push(body, sns(body));
  }
  const records: Json[] = [];
  for (const name of ['a-normal-push', 'e1-push', 'e2-lose-manifest-data', 'b1-repush-same']) {
    for (const line of read(`registry-traces/${name}.s3events.ndjson`).split('\n')) {
      if (line.trim() === '') continue;
      const body = JSON.parse(line) as { Records: Json[] };
      list.push(body);
      records.push(...body.Records);
    }
  }
  // DeleteObjects-style multi-record bodies
  for (let i = 0; i + 3 <= records.length; i += 7) list.push({ Records: records.slice(i, i + 3) });
  return list;
})();

/** What is wrong with one storage event (nothing: an empty list). */
function storageProblems(e: StorageEvent, opts: { rootDirectory?: string }): string[] {
  const p: string[] = [];
  if (S3_OPS[e.eventName] !== e.op) p.push(`op ${e.op} for ${e.eventName}`);
  if (typeof e.bucket !== 'string' || e.bucket.length === 0) p.push('bucket');
  if (typeof e.key !== 'string') p.push('key');
  if (JSON.stringify(e.storageKey) !== JSON.stringify(classifyKey(e.key, opts)))
    p.push('storageKey');
  if (!Number.isFinite(e.time)) p.push('time');
  if (!e.dedupeKey.startsWith(`s3|${e.bucket}|${e.key}|`)) p.push('dedupeKey');
  if (e.size !== undefined && !(Number.isSafeInteger(e.size) && e.size >= 0)) p.push('size');
  if (e.sequencer !== undefined && !/^[0-9A-Fa-f]+$/.test(e.sequencer)) p.push('sequencer');
  for (const f of ['eTag', 'versionId'] as const) {
    if (e[f] !== undefined && typeof e[f] !== 'string') p.push(f);
  }
  return p;
}

/** What is wrong with one webhook event. */
function webhookProblems(e: WebhookEvent): string[] {
  const p: string[] = [];
  if (!HARBOR_ACTED.includes(e.type)) p.push(`type ${e.type}`);
  if (!['default', 'cloudevents'].includes(e.format)) p.push(`format ${e.format}`);
  if (!isValidRepositoryName(e.repository)) p.push('repository');
  if (typeof e.project !== 'string' || typeof e.operator !== 'string') p.push('project/operator');
  if (e.digest !== undefined && parseDigest(e.digest) === undefined) p.push('digest');
  if (e.tag !== undefined && !isValidTag(e.tag)) p.push('tag');
  if (e.details !== undefined && typeof e.details !== 'string') p.push('details');
  if (!Number.isFinite(e.time)) p.push('time');
  if (!/^harbor\|[0-9a-f]{64}$/.test(e.dedupeKey)) p.push('dedupeKey');
  return p;
}

/** Well-typedness of a result (and of every event in it), as a list of what is wrong. */
function resultProblems(r: NormalizeResult, opts: { rootDirectory?: string }): string[] {
  if (!Array.isArray(r.events)) return ['events is not an array'];
  const p: string[] = [];
  let related = false;
  for (const e of r.events) {
    if (e.source === 'storage') {
      p.push(...storageProblems(e, opts));
      if (e.storageKey.kind !== 'unrelated') related = true;
    } else if (e.source === 'harbor') {
      p.push(...webhookProblems(e));
      related = true;
    } else p.push(`source ${(e as { source: unknown }).source}`);
  }
  // No events: skipped as a test event or an ignored type; events: skipped only when unrelated.
  const allowed =
    r.events.length === 0
      ? ['test-event', 'ignored-type']
      : [related ? undefined : 'unrelated-only'];
  if (!allowed.includes(r.skipped?.reason)) p.push(`skipped ${r.skipped?.reason}`);
  if (r.skipped !== undefined && typeof r.skipped.detail !== 'string') p.push('skipped.detail');
  return p;
}

/** A thrown value must be a MalformedEventError naming its field first in its message. */
function errorProblems(e: unknown): string[] {
  if (!(e instanceof MalformedEventError)) return [`threw ${String(e)}`];
  if (typeof e.field !== 'string' || e.field.length === 0) return ['no field'];
  return e.message.startsWith(`${e.field}: `) ? [] : [`message ${e.message}`];
}

/** normalizeMessage's result (or undefined when it threw) and what is wrong with the outcome. */
function outcome(body: unknown, opts: { rootDirectory?: string }) {
  try {
    const result = normalizeMessage(body, opts);
    return { result, problems: resultProblems(result, opts) };
  } catch (e) {
    return { result: undefined, problems: errorProblems(e) };
  }
}

/** Runs normalizeMessage and asserts a well-typed result or a MalformedEventError. */
function attempt(body: unknown, opts: { rootDirectory?: string }): NormalizeResult | undefined {
  const { result, problems } = outcome(body, opts);
  expect(problems).toEqual([]);
  return result;
}

/** unwrapRecorded then normalizeMessage: what is wrong with the outcome. */
function unwrapProblems(line: unknown): string[] {
  let u: ReturnType<typeof unwrapRecorded>;
  try {
    u = unwrapRecorded(line);
  } catch (e) {
    return errorProblems(e);
  }
  const time = u.receivedAt === undefined || Number.isFinite(u.receivedAt) ? [] : ['receivedAt'];
  return [...time, ...outcome(u.body, {}).problems];
}

// ---- mutations --------------------------------------------------------------------------------

const TOKENS = [
  '',
  '%',
  '%zz',
  '%2B',
  '+',
  '..',
  '_layers',
  '__proto__',
  'constructor',
  'toString',
  'Records',
  'Message',
  'Notification',
  's3:TestEvent',
  'aws:s3',
  'aws.s3',
  'Object Deleted',
  'ObjectRemoved:Delete',
  'ObjectRestore:Post',
  'LifecycleExpiration:Delete',
  'PUSH_ARTIFACT',
  'PULL_ARTIFACT',
  'harbor.artifact.pushed',
  'harbor.scan.failed',
  '1.0',
  '2.1',
  '3.0',
  '2024-07-03T13:16:39.812Z',
  'sha256:d072586aa4ec0d482c731fb91a40e149586e7e89cf1cd68ae81f57daf525039a',
  'Team/X',
  'a/*',
];

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom(...TOKENS)
);

const mutation = fc.record({
  pick: fc.nat(),
  op: fc.nat(8),
  at: fc.nat(),
  text,
  value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
});
type Mutation = { pick: number; op: number; at: number; text: string; value: Json };

/** Every (container, key) slot of a JSON document, the root included. */
function slots(holder: { root: Json }): [Record<string, Json> | Json[], string | number][] {
  const out: [Record<string, Json> | Json[], string | number][] = [[holder as never, 'root']];
  const walk = (v: Json) => {
    if (Array.isArray(v)) {
      v.forEach((c, i) => {
        out.push([v, i]);
        walk(c);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        out.push([v, k]);
        walk(v[k]!);
      }
    }
  };
  walk(holder.root);
  return out;
}

function retype(v: Json): Json {
  if (typeof v === 'string') return Number.isNaN(Number(v)) ? v.length : Number(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return String(v);
  if (v === null) return {};
  if (Array.isArray(v)) return Object.fromEntries(v.map((c, i) => [String(i), c]));
  return Object.values(v);
}

function applyMutation(doc: Json, m: Mutation): Json {
  const holder = { root: doc };
  const all = slots(holder);
  const [parent, key] = all[m.pick % all.length]!;
  const get = () => (parent as Record<string, Json>)[key as string] as Json;
  const set = (v: Json) => {
    Object.defineProperty(parent, key, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  };
  const cur = get();
  switch (m.op) {
    case 0: // drop
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else if (parent !== (holder as never)) delete (parent as Record<string, Json>)[key];
      break;
    case 1:
      set(m.value);
      break;
    case 2:
      set(retype(cur));
      break;
    case 3:
      set(m.text);
      break;
    case 4: {
      // splice random text into a string (keys, names, digests, times)
      const s = typeof cur === 'string' ? cur : JSON.stringify(cur);
      const i = m.at % (s.length + 1);
      set(s.slice(0, i) + m.text + s.slice(i));
      break;
    }
    case 5: {
      // replace one '/'-component of a string
      if (typeof cur !== 'string') break;
      const parts = cur.split('/');
      parts[m.at % parts.length] = m.text;
      set(parts.join('/'));
      break;
    }
    case 6: {
      // rename the key (own property, even for __proto__)
      if (Array.isArray(parent) || parent === (holder as never)) break;
      delete (parent as Record<string, Json>)[key];
      Object.defineProperty(parent, m.text, {
        value: cur,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      break;
    }
    case 7: {
      // mutate the JSON text of a nested string body (SNS Message) or truncate a string
      if (typeof cur !== 'string') break;
      set(cur.slice(0, m.at % (cur.length + 1)));
      break;
    }
    default:
      if (Array.isArray(cur)) set([...cur, ...cur]);
      else set(m.value);
  }
  return holder.root;
}

const mutated = fc
  .tuple(fc.constantFrom(...fixtures), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([f, muts]) => muts.reduce((doc, m) => applyMutation(doc, m), structuredClone(f)));

const rootOpt = fc.constantFrom<{ rootDirectory?: string }>(
  {},
  { rootDirectory: 'harbor' },
  { rootDirectory: '' }
);

describe('normalizeMessage properties', () => {
  it('mutated fixtures (as values and as JSON text): a result or a MalformedEventError', () => {
    let ok = 0;
    let malformed = 0;
    fc.assert(
      fc.property(mutated, rootOpt, (doc, opts) => {
        const r = attempt(doc, opts);
        if (r === undefined) malformed++;
        else ok++;
        // the text form of a JSON value normalises to the same thing (a string body already is
        // text: normalizeMessage parses it)
        expect(attempt(typeof doc === 'string' ? doc : JSON.stringify(doc), opts)).toEqual(r);
      }),
      { numRuns: 6000 }
    );
    // the mutations hit both outcomes
    expect(ok).toBeGreaterThan(100);
    expect(malformed).toBeGreaterThan(100);
  });

  it('corrupted JSON text: a result or a MalformedEventError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures).map((f) => JSON.stringify(f)),
        fc.nat(),
        fc.nat(20),
        text,
        (body, at, cut, insert) => {
          const i = at % (body.length + 1);
          attempt(body.slice(0, i) + insert + body.slice(i + cut), {});
        }
      ),
      { numRuns: 2000 }
    );
  });

  it('random JSON values and random shapes: a result or a MalformedEventError', () => {
    const leaf = fc.oneof(fc.jsonValue({ maxDepth: 1 }), text) as fc.Arbitrary<Json>;
    const s3Like = fc.record({
      Records: fc.array(
        fc.record({
          eventVersion: fc.oneof(fc.constantFrom('2.1', '2.0', '1.0'), leaf),
          eventSource: fc.oneof(fc.constant('aws:s3'), leaf),
          eventName: fc.oneof(fc.constantFrom(...Object.keys(S3_OPS)), leaf),
          eventTime: fc.oneof(fc.constant('2024-07-03T13:16:39.812Z'), leaf),
          s3: fc.record({
            bucket: fc.record({ name: fc.oneof(fc.constant('b'), leaf) }),
            object: fc.record(
              {
                key: fc.oneof(fc.constant('docker/registry/v2/blobs/sha256/00/x/data'), text, leaf),
                size: leaf,
                sequencer: leaf,
                eTag: leaf,
                versionId: leaf,
              },
              { requiredKeys: ['key'] }
            ),
          }),
        }),
        { minLength: 1, maxLength: 3 }
      ),
    });
    const harborLike = fc.record({
      type: fc.oneof(fc.constantFrom(...HARBOR_ACTED, 'PULL_ARTIFACT'), leaf),
      occur_at: fc.oneof(fc.nat(), leaf),
      operator: leaf,
      event_data: fc.record({
        resources: fc.oneof(
          fc.array(fc.record({ digest: fc.oneof(fc.constant(TOKENS[28]!), leaf), tag: leaf })),
          leaf
        ),
        repository: fc.oneof(
          fc.record({ repo_full_name: fc.oneof(fc.constant('team-a/x'), leaf), namespace: leaf }),
          leaf
        ),
        custom_attributes: fc.oneof(fc.record({ Details: leaf }), leaf),
      }),
    });
    const cloudEventLike = fc.record({
      specversion: fc.oneof(fc.constant('1.0'), leaf),
      type: fc.oneof(fc.constantFrom('harbor.artifact.pushed', 'harbor.quota.warned'), leaf),
      time: fc.oneof(fc.constant('2024-07-03T13:16:40Z'), leaf),
      data: leaf,
    });
    const eventBridgeLike = fc.record({
      source: fc.oneof(fc.constant('aws.s3'), leaf),
      'detail-type': fc.oneof(fc.constantFrom('Object Created', 'Object Deleted'), leaf),
      time: fc.oneof(fc.constant('2024-07-03T13:16:40Z'), leaf),
      detail: fc.record({
        bucket: fc.oneof(fc.record({ name: leaf }), leaf),
        object: fc.oneof(
          fc.record({ key: fc.oneof(text, leaf), size: leaf, sequencer: leaf }),
          leaf
        ),
        reason: fc.oneof(
          fc.constantFrom('PutObject', 'DeleteObject', 'Lifecycle Expiration'),
          leaf
        ),
        'deletion-type': leaf,
      }),
    });
    const anyBody = fc.oneof(
      fc.jsonValue() as fc.Arbitrary<Json>,
      s3Like as fc.Arbitrary<Json>,
      harborLike as fc.Arbitrary<Json>,
      cloudEventLike as fc.Arbitrary<Json>,
      eventBridgeLike as fc.Arbitrary<Json>
    );
    fc.assert(
      fc.property(anyBody, fc.boolean(), rootOpt, (body, wrap, opts) => {
        attempt(wrap ? sns(body) : body, opts);
      }),
      { numRuns: 3000 }
    );
  });

  it('event times: the epoch ms of the ISO-8601 eventTime, whatever its form', () => {
    const base = JSON.parse(read('s3-events/s3_event_manifest_revision_link_put.json'));
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.constantFrom('ms', 's', 'offset'),
        (d, form) => {
          let iso = d.toISOString();
          if (form === 's') iso = `${iso.slice(0, 19)}Z`;
          if (form === 'offset') iso = `${iso.slice(0, 23)}+00:00`;
          base.Records[0].eventTime = iso;
          const e = normalizeMessage(base).events[0]!;
          expect(e.time).toBe(Date.parse(iso));
        }
      ),
      { numRuns: 2000 }
    );
  });

  it('unwrapRecorded on random lines: a body or a MalformedEventError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue() as fc.Arbitrary<Json>,
          fc.record({
            receivedAt: fc.oneof(
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              text
            ),
            body: mutated,
          })
        ),
        fc.boolean(),
        (line, asText) => {
          expect(unwrapProblems(asText ? JSON.stringify(line) : line)).toEqual([]);
        }
      ),
      { numRuns: 1000 }
    );
  });
});
