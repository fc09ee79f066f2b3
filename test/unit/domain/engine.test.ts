import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  closeDue,
  createState,
  type EngineConfig,
  type EngineState,
} from '../../../lambdas/domain/engine.ts';
import {
  blobDataKey,
  classifyKey,
  layerLinkKey,
  revisionLinkKey,
  tagIndexLinkKey,
} from '../../../lambdas/domain/keys.ts';
import type {
  CheckResultEvent,
  Finding,
  NormalizedEvent,
  StorageEvent,
  WebhookEvent,
} from '../../../lambdas/domain/types.ts';

const ROOT = 'harbor';
const W = 10 * 60_000;
const T0 = Date.parse('2026-11-25T10:00:00Z');
const M = `sha256:${'8'.repeat(64)}`;
const L = `sha256:${'a'.repeat(64)}`;
const REPO = 'library/stale';
const live: EngineConfig = { windowMs: W, reportUnverified: false, rootDirectory: ROOT };
const offline: EngineConfig = { ...live, reportUnverified: true };

let seq = 0;
function s3(
  op: 'created' | 'removed',
  key: string,
  time: number,
  sequencer?: string
): StorageEvent {
  seq += 1;
  const sq = sequencer ?? seq.toString(16).padStart(16, '0');
  return {
    source: 'storage',
    op,
    eventName: op === 'created' ? 'ObjectCreated:Put' : 'ObjectRemoved:Delete',
    bucket: 'harbor',
    key,
    storageKey: classifyKey(key),
    sequencer: sq,
    time,
    dedupeKey: `s3|harbor|${key}|${sq}`,
  };
}
const upload = (repo: string, id: string, file: string) =>
  `${ROOT}/docker/registry/v2/repositories/${repo}/_uploads/${id}/${file}`;

function run(
  cfg: EngineConfig,
  events: Array<[number, NormalizedEvent | CheckResultEvent]>,
  state: EngineState = createState()
) {
  const findings: Finding[] = [];
  const checks = [];
  for (const [now, e] of events) {
    const out = applyEvent(state, e, now, cfg);
    findings.push(...out.findings);
    checks.push(...out.checks);
  }
  return { state, findings, checks };
}

describe('Function: applyEvent/closeDue — incomplete-push window boundary', () => {
  const activity = s3('created', upload(REPO, 'u1', 'startedat'), T0);
  it('reports nothing when the revision link arrives at W−1 s', () => {
    const { state } = run(live, [
      [T0, activity],
      [T0 + W - 1_000, s3('created', blobDataKey(ROOT, M), T0 + W - 1_100)],
      [T0 + W - 1_000, s3('created', revisionLinkKey(ROOT, REPO, M), T0 + W - 1_000)],
      [T0 + W - 900, s3('removed', upload(REPO, 'u1', 'startedat'), T0 + W - 900)],
    ]);
    const out = closeDue(state, T0 + 2 * W + 1_000, live);
    expect(out.findings.filter((f) => f.kind === 'incomplete-push')).toEqual([]);
  });
  it('reports incomplete-push (and abandoned-upload) only once W has passed without a commit', () => {
    const { state } = run(live, [[T0, activity]]);
    expect(closeDue(state, T0 + W - 1_000, live).findings).toEqual([]);
    const out = closeDue(state, T0 + W + 1_000, live);
    expect(out.findings.map((f) => f.kind).sort()).toEqual(['abandoned-upload', 'incomplete-push']);
    const push = out.findings.find((f) => f.kind === 'incomplete-push')!;
    expect(push).toMatchObject({ repository: REPO, verified: true, action: 'notify' });
    expect(push.evidence.join('\n')).toContain('_uploads/u1/startedat');
    expect(out.findings.find((f) => f.kind === 'abandoned-upload')?.uploadId).toBe('u1');
  });
  it('drops a repository once its window closed, so memory stays bounded', () => {
    const { state } = run(live, [[T0, activity]]);
    closeDue(state, T0 + W + 1_000, live);
    closeDue(state, T0 + 3 * W, live);
    expect([...state.repos.keys()]).toEqual([]);
  });
});

describe('Function: applyEvent — manifest-data-missing', () => {
  it('asks storage when a revision link arrives without proof that the data exists', () => {
    const { findings, checks } = run(live, [
      [T0, s3('created', revisionLinkKey(ROOT, REPO, M), T0)],
    ]);
    expect(findings).toEqual([]);
    expect(checks).toEqual([
      { type: 'manifest', digest: M, key: blobDataKey(ROOT, M), repository: REPO },
    ]);
  });
  it('reports at once, verified, with the stale cache key, when storage says the data is missing', () => {
    const link = s3('created', revisionLinkKey(ROOT, REPO, M), T0);
    const tag = s3('created', tagIndexLinkKey(ROOT, REPO, 'v1', M), T0 + 1);
    const { checks, state } = run(live, [
      [T0, link],
      [T0 + 1, tag],
    ]);
    const result: CheckResultEvent = {
      source: 'check',
      check: checks[0]!,
      presence: 'missing',
      time: T0 + 50,
    };
    const out = applyEvent(state, result, T0 + 50, live);
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0]).toMatchObject({
      kind: 'manifest-data-missing',
      repository: REPO,
      digest: M,
      tag: 'v1',
      verified: true,
      action: 'clear-cache',
    });
    expect(out.findings[0]!.evidence.join('\n')).toContain(`blobs::${M}`);
    // and not again at window close
    expect(
      closeDue(state, T0 + 2 * W, live).findings.filter((f) => f.kind === 'manifest-data-missing')
    ).toEqual([]);
  });
  it('a healthy re-push (data present) and the bug write the same links: only the check tells them apart', () => {
    const link = s3('created', revisionLinkKey(ROOT, REPO, M), T0);
    const { checks, state } = run(live, [[T0, link]]);
    const ok: CheckResultEvent = {
      source: 'check',
      check: checks[0]!,
      presence: 'present',
      references: [L],
      time: T0 + 50,
    };
    const out = applyEvent(state, ok, T0 + 50, live);
    expect(out.findings).toEqual([]);
    expect(out.checks).toEqual([
      { type: 'blob-data', digest: L, key: blobDataKey(ROOT, L), repository: REPO },
    ]);
    expect(closeDue(state, T0 + 2 * W, live).findings).toEqual([]);
  });
  it('never reports "missing" on an unknown answer; asks again at the deadline', () => {
    const { checks, state } = run(live, [[T0, s3('created', revisionLinkKey(ROOT, REPO, M), T0)]]);
    const unknown: CheckResultEvent = {
      source: 'check',
      check: checks[0]!,
      presence: 'unknown',
      time: T0 + 50,
    };
    expect(applyEvent(state, unknown, T0 + 50, live).findings).toEqual([]);
    const out = closeDue(state, T0 + W + 1, live);
    expect(out.findings).toEqual([]);
    expect(out.checks.map((c) => c.type)).toEqual(['manifest']);
  });
  it('replay: data removed and never rewritten before the link → verified from events alone', () => {
    const { state } = run(offline, [
      [T0, s3('created', blobDataKey(ROOT, M), T0)],
      [T0 + 1, s3('created', revisionLinkKey(ROOT, REPO, M), T0 + 1)],
      [T0 + 10_000, s3('removed', blobDataKey(ROOT, M), T0 + 10_000)],
      [T0 + 20_000, s3('created', revisionLinkKey(ROOT, REPO, M), T0 + 20_000)],
    ]);
    const out = closeDue(state, Number.POSITIVE_INFINITY, offline);
    const mdm = out.findings.filter((f) => f.kind === 'manifest-data-missing');
    expect(mdm).toHaveLength(1);
    expect(mdm[0]).toMatchObject({ repository: REPO, digest: M, verified: true });
  });
  it('replay: a re-push with no knowledge of the data is at most unverified', () => {
    const { state } = run(offline, [[T0, s3('created', revisionLinkKey(ROOT, REPO, M), T0)]]);
    const out = closeDue(state, Number.POSITIVE_INFINITY, offline);
    expect(out.findings.every((f) => !f.verified)).toBe(true);
  });
  it('a data write after a removal (sequencer order) clears the suspicion, whatever the delivery order', () => {
    const key = blobDataKey(ROOT, M);
    const removed = s3('removed', key, T0 + 5, '00000000000000a1');
    const rewritten = s3('created', key, T0 + 6, '00000000000000a2');
    for (const order of [
      [removed, rewritten],
      [rewritten, removed],
    ]) {
      const state = createState();
      applyEvent(state, s3('created', revisionLinkKey(ROOT, REPO, M), T0), T0, offline);
      for (const e of order) applyEvent(state, e, T0 + 10, offline);
      applyEvent(state, s3('created', revisionLinkKey(ROOT, REPO, M), T0 + 20), T0 + 20, offline);
      expect(closeDue(state, Number.POSITIVE_INFINITY, offline).findings).toEqual([]);
    }
  });
});

describe('Function: applyEvent — duplicates and reordering', () => {
  it('the same events delivered 3 times, in any order across keys, give the same findings', () => {
    const events = [
      s3('created', upload('team/app', 'u9', 'startedat'), T0),
      s3('created', layerLinkKey(ROOT, 'team/app', L), T0 + 1),
      s3('created', blobDataKey(ROOT, L), T0 + 2),
      s3('removed', blobDataKey(ROOT, M), T0 + 3),
      s3('created', revisionLinkKey(ROOT, 'team/app', M), T0 + 4),
    ];
    const summary = (list: StorageEvent[]) => {
      const state = createState();
      const found: Finding[] = [];
      for (const e of list) found.push(...applyEvent(state, e, T0 + 10, offline).findings);
      found.push(...closeDue(state, Number.POSITIVE_INFINITY, offline).findings);
      return found.map((f) => `${f.kind}|${f.repository}|${f.digest ?? ''}|${f.verified}`).sort();
    };
    const once = summary(events);
    expect(once).toContain(`manifest-data-missing|team/app|${M}|true`);
    expect(summary([...events, ...events, ...events])).toEqual(once);
    expect(summary([...events].reverse())).toEqual(once);
  });
});

describe('Function: applyEvent — layer-data-missing', () => {
  it('a mounted layer whose data storage reports missing', () => {
    const { checks, state } = run(live, [
      [T0, s3('created', layerLinkKey(ROOT, 'team/other', L), T0)],
    ]);
    expect(checks).toEqual([
      { type: 'blob-data', digest: L, key: blobDataKey(ROOT, L), repository: 'team/other' },
    ]);
    const out = applyEvent(
      state,
      { source: 'check', check: checks[0]!, presence: 'missing', time: T0 + 5 },
      T0 + 5,
      live
    );
    expect(out.findings.map((f) => [f.kind, f.repository, f.digest, f.verified])).toEqual([
      ['layer-data-missing', 'team/other', L, true],
    ]);
  });
  it('layer data removed while a repository links it: checked, then reported', () => {
    const { state } = run(live, [
      [T0, s3('created', blobDataKey(ROOT, L), T0)],
      [T0 + 1, s3('created', layerLinkKey(ROOT, REPO, L), T0 + 1)],
    ]);
    const removal = applyEvent(
      state,
      s3('removed', blobDataKey(ROOT, L), T0 + 60_000),
      T0 + 60_000,
      live
    );
    expect(removal.checks).toEqual([{ type: 'blob-data', digest: L, key: blobDataKey(ROOT, L) }]);
    const out = applyEvent(
      state,
      { source: 'check', check: removal.checks[0]!, presence: 'missing', time: T0 + 60_500 },
      T0 + 60_500,
      live
    );
    expect(out.findings.map((f) => [f.kind, f.repository])).toEqual([['layer-data-missing', REPO]]);
  });
});

describe('Function: applyEvent — webhook-without-commit', () => {
  const hook = (digest: string): WebhookEvent => ({
    source: 'harbor',
    type: 'PUSH_ARTIFACT',
    format: 'default',
    repository: 'team-a/payments-api',
    project: 'team-a',
    digest,
    tag: '1.4.2',
    operator: 'ci',
    time: T0,
    dedupeKey: `harbor|${digest}`,
  });
  it('is satisfied by the revision link, before or after the webhook', () => {
    const { state } = run(live, [
      [T0, hook(M)],
      [T0 + 2_000, s3('created', revisionLinkKey(ROOT, 'team-a/payments-api', M), T0 + 2_000)],
    ]);
    expect(
      closeDue(state, T0 + 2 * W, live).findings.filter((f) => f.kind === 'webhook-without-commit')
    ).toEqual([]);
  });
  it('live: asks storage for the link at the deadline and reports when it is missing', () => {
    const { state } = run(live, [
      [T0, hook(M)],
      [T0 + 1, hook(M)],
    ]);
    const closing = closeDue(state, T0 + W, live);
    expect(closing.findings).toEqual([]);
    expect(closing.checks).toEqual([
      {
        type: 'revision-link',
        repository: 'team-a/payments-api',
        digest: M,
        key: revisionLinkKey(ROOT, 'team-a/payments-api', M),
      },
    ]);
    const out = applyEvent(
      state,
      { source: 'check', check: closing.checks[0]!, presence: 'missing', time: T0 + W + 5 },
      T0 + W + 5,
      live
    );
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0]).toMatchObject({
      kind: 'webhook-without-commit',
      tag: '1.4.2',
      verified: true,
      action: 'open-ticket',
    });
  });
});

describe('Function: applyEvent — tags outlive the window', () => {
  it('data lost long after the push is reported with the tag the push wrote (re-push needs a tag)', () => {
    const { state } = run(live, [
      [T0, s3('created', blobDataKey(ROOT, M), T0)],
      [T0 + 1, s3('created', revisionLinkKey(ROOT, REPO, M), T0 + 1)],
      [T0 + 2, s3('created', tagIndexLinkKey(ROOT, REPO, 'v7', M), T0 + 2)],
    ]);
    closeDue(state, T0 + 2 * W, live);
    expect(state.repos.get(REPO)).toBeUndefined();
    const later = T0 + 3 * W;
    const removal = applyEvent(state, s3('removed', blobDataKey(ROOT, M), later), later, live);
    const out = applyEvent(
      state,
      { source: 'check', check: removal.checks[0]!, presence: 'missing', time: later + 10 },
      later + 10,
      live
    );
    expect(out.findings.map((f) => [f.kind, f.repository, f.tag])).toEqual([
      ['manifest-data-missing', REPO, 'v7'],
    ]);
  });
});
