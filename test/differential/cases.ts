/**
 * The differential replay cases: which recorded inputs, in which order, through which transform
 * and with which `pushguard replay` options. Their outputs were recorded once from main at
 * d63cd26 (before the issue-14 refactors) into test/fixtures/differential/; the test replays the
 * same inputs with the current code and compares byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const OUT_DIR = join(ROOT, 'test/fixtures/differential');

const TRACE = 'test/fixtures/registry-traces';
const WEBHOOK = 'test/fixtures/harbor-webhooks';
const S3 = 'test/fixtures/s3-events';
const DIFF = 'test/fixtures/differential/inputs';

const t = (name: string) => `${TRACE}/${name}.s3events.ndjson`;
const A = t('a-normal-push');
const B1 = t('b1-repush-same');
const E1 = t('e1-push');
const E2 = t('e2-lose-manifest-data');
const E3 = t('e3-repush-stale');
const NOROOT = t('noroot-a-normal-push');
const E123 = [E1, E2, E3];
const ALL_TRACES = [A, B1, E1, E2, E3, NOROOT];
const HOOK_PUSH = `${WEBHOOK}/harbor_webhook_push_artifact_default.json`;
const HOOK_CLOUD = `${WEBHOOK}/harbor_webhook_push_artifact_cloudevents.json`;
const HOOK_QUOTA = `${WEBHOOK}/harbor_webhook_quota_exceed_default.json`;
const EB_COPY = `${S3}/eventbridge_object_created_blob_copy.json`;
const S3_LINK = `${S3}/s3_event_manifest_revision_link_put.json`;
const S3_TEST = `${S3}/s3_sqs_test_event.json`;
const NOT_EVENT = `${S3}/sample_manifest.json`;
const STALE_HOOK = `${DIFF}/webhook-stale-default.json`;
const STALE_CLOUD = `${DIFF}/webhook-stale-cloudevents.json`;
const APP_HOOK = `${DIFF}/webhook-app-default.json`;

/** How the concatenated lines are delivered. */
export type Transform = 'none' | 'sns' | 'recorded' | 'duplicate' | 'reverse' | 'crlf';

export interface ReplayCase {
  name: string;
  /** Files concatenated in this order; a `.json` file becomes one compact line. */
  inputs: string[];
  args: string[];
  transform?: Transform;
}

const ROOTED = ['--root-directory', 'harbor'];

function base(): ReplayCase[] {
  return [
    { name: 'a-rooted', inputs: [A], args: ROOTED },
    { name: 'a-detected', inputs: [A], args: [] },
    { name: 'b1-rooted', inputs: [B1], args: ROOTED },
    { name: 'b1-detected', inputs: [B1], args: [] },
    { name: 'e1-rooted', inputs: [E1], args: ROOTED },
    { name: 'e2-rooted', inputs: [E2], args: ROOTED },
    { name: 'e3-rooted', inputs: [E3], args: ROOTED },
    { name: 'noroot-a-detected', inputs: [NOROOT], args: [] },
    { name: 'noroot-a-empty-root', inputs: [NOROOT], args: ['--root-directory', '/'] },
    { name: 'a-b1-rooted', inputs: [A, B1], args: ['--root-directory', '/harbor'] },
    { name: 'e123-rooted', inputs: E123, args: ROOTED },
    { name: 'e123-detected', inputs: E123, args: [] },
    { name: 'e13-rooted', inputs: [E1, E3], args: ROOTED },
    { name: 'e12-rooted', inputs: [E1, E2], args: ROOTED },
    { name: 'e23-rooted', inputs: [E2, E3], args: ROOTED },
    { name: 'all-traces-rooted', inputs: ALL_TRACES, args: ROOTED },
    { name: 'all-traces-detected', inputs: ALL_TRACES, args: [] },
    { name: 'e123-wrong-root', inputs: E123, args: ['--root-directory', 'other'] },
  ];
}

function windowsAndClock(): ReplayCase[] {
  const at = (iso: string) => ['--now', iso];
  return [
    { name: 'e123-window-1s', inputs: E123, args: [...ROOTED, '--window', '1s'] },
    { name: 'e123-window-90s', inputs: E123, args: [...ROOTED, '--window', '90s'] },
    { name: 'e123-window-2h', inputs: E123, args: [...ROOTED, '--window', '2h'] },
    { name: 'a-b1-window-1s', inputs: [A, B1], args: [...ROOTED, '--window', '1s'] },
    { name: 'all-window-1s', inputs: ALL_TRACES, args: [...ROOTED, '--window', '1s'] },
    { name: 'e123-now-before-e2', inputs: E123, args: [...ROOTED, ...at('2026-11-25T19:55:33Z')] },
    { name: 'e123-now-before-e3', inputs: E123, args: [...ROOTED, ...at('2026-11-25T19:55:35Z')] },
    { name: 'e123-now-after-e3', inputs: E123, args: [...ROOTED, ...at('2026-11-25T19:55:38Z')] },
    { name: 'e123-now-later', inputs: E123, args: [...ROOTED, ...at('2026-11-25T20:10:00Z')] },
    { name: 'b1-now-open', inputs: [B1], args: [...ROOTED, ...at('2026-11-25T19:55:07Z')] },
    {
      name: 'e123-now-window-1s',
      inputs: E123,
      args: [...ROOTED, '--window', '1s', ...at('2026-11-25T19:55:36Z')],
    },
  ];
}

function deliveries(): ReplayCase[] {
  const list: ReplayCase[] = [];
  for (const transform of ['sns', 'recorded', 'duplicate', 'reverse', 'crlf'] as const) {
    list.push({ name: `e123-${transform}`, inputs: E123, args: ROOTED, transform });
    list.push({ name: `a-b1-${transform}`, inputs: [A, B1], args: ROOTED, transform });
  }
  list.push({ name: 'all-sns-detected', inputs: ALL_TRACES, args: [], transform: 'sns' });
  list.push({ name: 'all-reverse', inputs: ALL_TRACES, args: ROOTED, transform: 'reverse' });
  return list;
}

function webhooksAndEnvelopes(): ReplayCase[] {
  return [
    { name: 'hook-push-default', inputs: [HOOK_PUSH], args: [] },
    { name: 'hook-push-cloudevents', inputs: [HOOK_CLOUD], args: [] },
    { name: 'hook-quota', inputs: [HOOK_QUOTA], args: [] },
    { name: 'hooks-all', inputs: [HOOK_PUSH, HOOK_CLOUD, HOOK_QUOTA], args: [] },
    {
      name: 'hooks-all-sns',
      inputs: [HOOK_PUSH, HOOK_CLOUD, HOOK_QUOTA],
      args: [],
      transform: 'sns',
    },
    { name: 'hooks-duplicate', inputs: [HOOK_PUSH, HOOK_CLOUD], args: [], transform: 'duplicate' },
    { name: 'stale-hook-alone', inputs: [STALE_HOOK], args: ROOTED },
    { name: 'stale-cloud-alone', inputs: [STALE_CLOUD], args: ROOTED },
    { name: 'e123-stale-hook', inputs: [...E123, STALE_HOOK], args: ROOTED },
    { name: 'e123-stale-cloud', inputs: [...E123, STALE_CLOUD], args: ROOTED },
    { name: 'stale-hook-then-e123', inputs: [STALE_HOOK, ...E123], args: ROOTED },
    { name: 'e1-stale-hook', inputs: [E1, STALE_HOOK], args: ROOTED },
    { name: 'a-app-hook', inputs: [A, APP_HOOK], args: ROOTED },
    { name: 'a-b1-app-hook', inputs: [A, B1, APP_HOOK], args: ROOTED },
    { name: 'app-hook-alone', inputs: [APP_HOOK], args: ROOTED },
    { name: 'eventbridge-copy', inputs: [EB_COPY], args: [] },
    { name: 's3-link-put', inputs: [S3_LINK], args: [] },
    { name: 's3-test-event', inputs: [S3_TEST], args: [] },
    { name: 's3-events-all', inputs: [S3_TEST, EB_COPY, S3_LINK], args: [] },
    { name: 's3-events-all-sns', inputs: [S3_TEST, EB_COPY, S3_LINK], args: [], transform: 'sns' },
    { name: 's3-link-and-hooks', inputs: [S3_LINK, EB_COPY, HOOK_PUSH, HOOK_CLOUD], args: [] },
  ];
}

/** /work/shared/fixtures holds the same traces and JSON files (byte-identical); its extra text files are here. */
function invalid(): ReplayCase[] {
  const readable = `${DIFF}/e1-push.readable.txt`;
  const redisDump = `${DIFF}/e3-repush-stale.redis.txt`;
  return [
    { name: 'not-an-event', inputs: [NOT_EVENT], args: [] },
    { name: 'not-an-event-skip', inputs: [NOT_EVENT], args: ['--skip-invalid'] },
    { name: 'e123-invalid-mid', inputs: [E1, NOT_EVENT, E2, E3], args: ROOTED },
    {
      name: 'e123-invalid-mid-skip',
      inputs: [E1, NOT_EVENT, E2, E3],
      args: [...ROOTED, '--skip-invalid'],
    },
    { name: 'readable-txt', inputs: [readable], args: [] },
    { name: 'readable-txt-skip', inputs: [readable], args: ['--skip-invalid'] },
    { name: 'redis-txt-skip', inputs: [redisDump], args: ['--skip-invalid'] },
    { name: 'bad-window', inputs: [E1], args: ['--window', '0s'] },
    { name: 'bad-now', inputs: [E1], args: ['--now', 'yesterday'] },
  ];
}

export const REPLAY_CASES: ReplayCase[] = [
  ...base(),
  ...windowsAndClock(),
  ...deliveries(),
  ...webhooksAndEnvelopes(),
  ...invalid(),
];

/** Every single input file, for the normaliser differential (each line, with and without root). */
export const NORMALIZE_SOURCES: string[] = [
  ...ALL_TRACES,
  HOOK_PUSH,
  HOOK_CLOUD,
  HOOK_QUOTA,
  EB_COPY,
  S3_LINK,
  S3_TEST,
  NOT_EVENT,
  STALE_HOOK,
  STALE_CLOUD,
  APP_HOOK,
];

function readInput(file: string): string[] {
  const text = readFileSync(file.startsWith('/') ? file : join(ROOT, file), 'utf8');
  if (file.endsWith('.json')) return [JSON.stringify(JSON.parse(text))];
  return text.split('\n').filter((l) => l.trim() !== '');
}

const ISO_TIME = /"(?:eventTime|time)":"([^"]+)"/;

function recorded(line: string): string {
  const iso = ISO_TIME.exec(line)?.[1];
  if (iso === undefined) return line;
  const receivedAt = new Date(Date.parse(iso) + 1500).toISOString();
  return `{"receivedAt":"${receivedAt}","body":${line}}`;
}

function sns(line: string, i: number): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    TopicArn: 'arn:aws:sns:us-east-1:111122223333:registry-events',
    Message: line,
    Timestamp: '2026-11-25T19:55:00.000Z',
  });
}

/** The exact bytes replayed for a case (deterministic: no clock, no randomness). */
export function caseInput(c: ReplayCase): string {
  let lines = c.inputs.flatMap(readInput);
  switch (c.transform ?? 'none') {
    case 'sns':
      lines = lines.map(sns);
      break;
    case 'recorded':
      lines = lines.map(recorded);
      break;
    case 'duplicate':
      lines = lines.flatMap((l) => [l, l]);
      break;
    case 'reverse':
      lines = [...lines].reverse();
      break;
    case 'crlf':
      return `${lines.join('\r\n')}\r\n`;
    case 'none':
      break;
  }
  return `${lines.join('\n')}\n`;
}

export { readInput };
