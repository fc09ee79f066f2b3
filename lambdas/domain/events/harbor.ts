/** Harbor webhooks, in the Default and the CloudEvents formats (checked by zod schemas). */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { MalformedEventError } from '../errors.ts';
import { isValidRepositoryName, isValidTag, parseDigest } from '../keys.ts';
import type { HarborEventType, NormalizedEvent, WebhookEvent } from '../types.ts';
import { at, zodError } from './fields.ts';
import { isoToMs } from './time.ts';
import type { NormalizeResult, Obj } from './types.ts';

const HARBOR_TYPES = new Set<HarborEventType>([
  'PUSH_ARTIFACT',
  'DELETE_ARTIFACT',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
  'PULL_ARTIFACT',
  'SCANNING_FAILED',
  'SCANNING_STOPPED',
  'SCANNING_COMPLETED',
  'REPLICATION',
  'TAG_RETENTION',
  'UPLOAD_CHART',
  'DELETE_CHART',
  'DOWNLOAD_CHART',
]);

const ACTED_ON = new Set<HarborEventType>([
  'PUSH_ARTIFACT',
  'DELETE_ARTIFACT',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
]);

/** CloudEvents `type` (after `harbor.`) → Harbor event type. */
const CLOUDEVENT_TYPES = new Map<string, HarborEventType>([
  ['artifact.pushed', 'PUSH_ARTIFACT'],
  ['artifact.deleted', 'DELETE_ARTIFACT'],
  ['artifact.pulled', 'PULL_ARTIFACT'],
  ['quota.exceeded', 'QUOTA_EXCEED'],
  ['quota.warned', 'QUOTA_WARNING'],
  ['scan.completed', 'SCANNING_COMPLETED'],
  ['scan.failed', 'SCANNING_FAILED'],
  ['scan.stopped', 'SCANNING_STOPPED'],
  ['replication.status.changed', 'REPLICATION'],
  ['tag_retention.finished', 'TAG_RETENTION'],
]);

const HarborDefaultEnvelope = z.object({
  type: z.string(),
  occur_at: z.number().int().nonnegative().max(253402300799),
  operator: z.string().nullish(),
  event_data: z.looseObject({}),
});

const CloudEventEnvelope = z.object({
  specversion: z.literal('1.0'),
  type: z.string(),
  time: z.string(),
  operator: z.string().nullish(),
  data: z.looseObject({}),
});

const ActedEventData = z.object({
  resources: z
    .array(
      z.object({
        digest: z.string().nullish(),
        tag: z.string().nullish(),
      })
    )
    .nullish(),
  repository: z.object({
    repo_full_name: z.string(),
    namespace: z.string().nullish(),
  }),
  custom_attributes: z.record(z.string(), z.unknown()).nullish(),
});
type EventData = z.infer<typeof ActedEventData>;

/** What both formats carry, once their envelopes are read. */
interface HarborCommon {
  type: HarborEventType;
  format: 'default' | 'cloudevents';
  operator: string;
  /** Epoch ms. */
  time: number;
  /** Unix seconds, as in `occur_at`. */
  occurAt: number;
  data: Obj;
  /** Field path of the event data (`event_data` or `data`), prefix included. */
  dataField: string;
}

export function isCloudEvent(value: Obj): boolean {
  return 'specversion' in value;
}

export function isHarborDefault(value: Obj): boolean {
  return typeof value.type === 'string' && ('event_data' in value || 'occur_at' in value);
}

export function normalizeHarborDefault(value: Obj, prefix: string): NormalizeResult {
  const parsed = HarborDefaultEnvelope.safeParse(value);
  if (!parsed.success) throw zodError(prefix, parsed.error);
  const e = parsed.data;
  if (!HARBOR_TYPES.has(e.type as HarborEventType)) {
    throw new MalformedEventError(at(prefix, 'type'), `unknown Harbor event type ${e.type}`);
  }
  return harborEvents({
    type: e.type as HarborEventType,
    format: 'default',
    operator: e.operator ?? '',
    time: e.occur_at * 1000,
    occurAt: e.occur_at,
    data: e.event_data,
    dataField: at(prefix, 'event_data'),
  });
}

export function normalizeCloudEvent(value: Obj, prefix: string): NormalizeResult {
  const parsed = CloudEventEnvelope.safeParse(value);
  if (!parsed.success) throw zodError(prefix, parsed.error);
  const e = parsed.data;
  const type = e.type.startsWith('harbor.') ? CLOUDEVENT_TYPES.get(e.type.slice(7)) : undefined;
  if (type === undefined) {
    throw new MalformedEventError(at(prefix, 'type'), `unknown Harbor CloudEvents type ${e.type}`);
  }
  const time = isoToMs(e.time, at(prefix, 'time'));
  return harborEvents({
    type,
    format: 'cloudevents',
    operator: e.operator ?? '',
    time,
    occurAt: Math.floor(time / 1000),
    data: e.data,
    dataField: at(prefix, 'data'),
  });
}

/** Harbor's Default format has no event id (and retries up to 10 times): a derived one. */
function harborDedupeKey(c: HarborCommon, repository: string, digest: string, tag: string) {
  const h = createHash('sha256');
  h.update(`${c.type}|${repository}|${digest}|${tag}|${c.occurAt}`);
  return `harbor|${h.digest('hex')}`;
}

const isQuota = (type: HarborEventType) => type === 'QUOTA_EXCEED' || type === 'QUOTA_WARNING';

/** The event every resource of one webhook shares (digest, tag and dedupe key set per resource). */
function webhookBase(c: HarborCommon, data: EventData): WebhookEvent {
  const repository = data.repository.repo_full_name;
  if (!isValidRepositoryName(repository)) {
    throw new MalformedEventError(
      `${c.dataField}.repository.repo_full_name`,
      'not a valid repository name'
    );
  }
  const slash = repository.indexOf('/');
  const project =
    data.repository.namespace || (slash === -1 ? repository : repository.slice(0, slash));
  const details = isQuota(c.type) ? data.custom_attributes?.Details : undefined;
  const ev: WebhookEvent = {
    source: 'harbor',
    type: c.type,
    format: c.format,
    repository,
    project,
    operator: c.operator,
    time: c.time,
    dedupeKey: '',
  };
  if (typeof details === 'string') ev.details = details;
  return ev;
}

function harborEvents(c: HarborCommon): NormalizeResult {
  if (!ACTED_ON.has(c.type)) {
    return { events: [], skipped: { reason: 'ignored-type', detail: `Harbor ${c.type}` } };
  }
  const parsed = ActedEventData.safeParse(c.data);
  if (!parsed.success) throw zodError(c.dataField, parsed.error);
  const data = parsed.data;
  const base = webhookBase(c, data);
  const resources = data.resources ?? [];
  if (resources.length === 0) {
    if (!isQuota(c.type)) {
      throw new MalformedEventError(`${c.dataField}.resources`, 'expected at least one resource');
    }
    return { events: [{ ...base, dedupeKey: harborDedupeKey(c, base.repository, '', '') }] };
  }
  const events: NormalizedEvent[] = [];
  for (let i = 0; i < resources.length; i++) {
    const r = resources[i]!;
    const rf = `${c.dataField}.resources[${i}]`;
    const rawDigest = r.digest ?? '';
    if (rawDigest === '') {
      if (!isQuota(c.type)) throw new MalformedEventError(`${rf}.digest`, 'required');
    } else if (parseDigest(rawDigest) === undefined) {
      throw new MalformedEventError(`${rf}.digest`, 'not a valid digest');
    }
    const rawTag = r.tag ?? '';
    let tag: string | undefined;
    if (rawTag !== '' && parseDigest(rawTag) === undefined) {
      if (!isValidTag(rawTag)) throw new MalformedEventError(`${rf}.tag`, 'not a valid tag');
      tag = rawTag;
    }
    const ev: WebhookEvent = { ...base };
    if (rawDigest !== '') ev.digest = rawDigest;
    if (tag !== undefined) ev.tag = tag;
    ev.dedupeKey = harborDedupeKey(c, base.repository, rawDigest, rawTag);
    events.push(ev);
  }
  return { events };
}
