/**
 * Generated event streams for property tests: pushes, removals, tag links, webhooks and storage
 * answers over a few repositories and digests whose names come from names.ts, delivered as the
 * message bodies S3 and Harbor send (so they go through the real normalisers), with redeliveries.
 */
import fc from 'fast-check';
import {
  blobDataKey,
  layerLinkKey,
  revisionLinkKey,
  tagCurrentLinkKey,
  tagIndexLinkKey,
} from '../../lambdas/domain/keys.ts';
import { digest, project, repository, tag, uploadId } from './names.ts';

/** One seed for every property suite: a failure replays exactly. */
export const SEED = 20_261_205;
export const ROOT = 'harbor';
export const T0 = Date.parse('2026-12-05T10:00:00Z');

export type Step =
  | {
      kind: 'upload';
      file: 'startedat' | 'data';
      op: 'created' | 'removed';
      repo: number;
      id: string;
    }
  | { kind: 'layer' | 'revision'; op: 'created' | 'removed'; repo: number; digest: string }
  | { kind: 'blob'; op: 'created' | 'removed'; digest: string }
  | { kind: 'tag-index' | 'tag-current'; repo: number; tag: string; digest: string }
  | {
      kind: 'webhook';
      type: 'PUSH_ARTIFACT' | 'DELETE_ARTIFACT';
      repo: number;
      tag?: string;
      digest: string;
    }
  | { kind: 'odd-key'; key: string };

export interface Stream {
  repos: string[];
  projects: string[];
  /** Steps with the ms elapsed before each and whether it is delivered twice. */
  steps: { step: Step; after: number; twice: boolean }[];
  /** Where the stream is cut into batches (indexes into steps). */
  cuts: number[];
  /** Answers given to storage checks, in the order they are asked (cycled). */
  answers: ('present' | 'missing' | 'unknown')[];
}

const op = fc.constantFrom('created' as const, 'removed' as const);

function stepOf(repoCount: number): fc.Arbitrary<Step> {
  const repo = fc.nat(repoCount - 1);
  return fc.oneof(
    fc.record({
      kind: fc.constant('upload' as const),
      file: fc.constantFrom('startedat' as const, 'data' as const),
      op,
      repo,
      id: uploadId,
    }),
    fc.record({ kind: fc.constantFrom('layer' as const, 'revision' as const), op, repo, digest }),
    fc.record({ kind: fc.constant('blob' as const), op, digest }),
    fc.record({
      kind: fc.constantFrom('tag-index' as const, 'tag-current' as const),
      repo,
      tag,
      digest,
    }),
    fc.record(
      {
        kind: fc.constant('webhook' as const),
        type: fc.constantFrom('PUSH_ARTIFACT' as const, 'DELETE_ARTIFACT' as const),
        repo,
        tag,
        digest,
      },
      { requiredKeys: ['kind', 'type', 'repo', 'digest'] }
    ),
    // names outside the grammar (non-ASCII look-alikes): unrelated keys, never a failure
    fc.constantFrom('tést', '𝒸onstructor', 'cоnstructor', '__proto__', 'Constructor').map(
      (name): Step => ({
        kind: 'odd-key',
        key: `${ROOT}/docker/registry/v2/repositories/${name}/_uploads/x/startedat`,
      })
    )
  );
}

export const stream: fc.Arbitrary<Stream> = fc
  .tuple(
    fc.array(repository, { minLength: 1, maxLength: 3 }),
    fc.array(project, { minLength: 3, maxLength: 3 })
  )
  .chain(([repos, projects]) =>
    fc.record({
      repos: fc.constant(repos),
      projects: fc.constant(projects),
      steps: fc.array(
        fc.record({ step: stepOf(repos.length), after: fc.nat(90_000), twice: fc.boolean() }),
        { minLength: 1, maxLength: 18 }
      ),
      cuts: fc.array(fc.nat(18), { maxLength: 3 }),
      answers: fc.array(
        fc.constantFrom('present' as const, 'missing' as const, 'unknown' as const),
        {
          minLength: 1,
          maxLength: 6,
        }
      ),
    })
  );

/** S3's form encoding of an object key in a notification. */
function s3Encode(key: string): string {
  return encodeURIComponent(key).replaceAll('%2F', '/');
}

function s3Body(key: string, created: boolean, time: number, sequencer: number): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date(time).toISOString(),
        eventName: created ? 'ObjectCreated:Put' : 'ObjectRemoved:Delete',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: 'harbor', arn: 'arn:aws:s3:::harbor' },
          object: {
            key: s3Encode(key),
            ...(created ? { size: 71 } : {}),
            sequencer: sequencer.toString(16).toUpperCase().padStart(16, '0'),
          },
        },
      },
    ],
  });
}

function webhookBody(
  s: Extract<Step, { kind: 'webhook' }>,
  repo: string,
  project: string,
  time: number
) {
  return JSON.stringify({
    type: s.type,
    occur_at: Math.floor(time / 1000),
    operator: 'robot$ci',
    event_data: {
      resources: [{ digest: s.digest, ...(s.tag ? { tag: s.tag } : {}) }],
      repository: { repo_full_name: repo, namespace: project, name: repo.split('/').pop() },
    },
  });
}

/** The message body of one step at `time` (sequencers increase along the stream). */
export function bodyOf(st: Stream, s: Step, time: number, sequencer: number): string {
  const repo = 'repo' in s ? st.repos[s.repo]! : '';
  switch (s.kind) {
    case 'upload': {
      const key = `${ROOT}/docker/registry/v2/repositories/${repo}/_uploads/${s.id}/${s.file}`;
      return s3Body(key, s.op === 'created', time, sequencer);
    }
    case 'layer':
      return s3Body(layerLinkKey(ROOT, repo, s.digest), s.op === 'created', time, sequencer);
    case 'revision':
      return s3Body(revisionLinkKey(ROOT, repo, s.digest), s.op === 'created', time, sequencer);
    case 'blob':
      return s3Body(blobDataKey(ROOT, s.digest), s.op === 'created', time, sequencer);
    case 'tag-index':
      return s3Body(tagIndexLinkKey(ROOT, repo, s.tag, s.digest), true, time, sequencer);
    case 'tag-current':
      return s3Body(tagCurrentLinkKey(ROOT, repo, s.tag), true, time, sequencer);
    case 'webhook':
      return webhookBody(s, repo, st.projects[s.repo % st.projects.length]!, time);
    case 'odd-key':
      return s3Body(s.key, true, time, sequencer);
  }
}

/** The stream as batches of message bodies with their delivery time, redeliveries included. */
export function batchesOf(st: Stream): { bodies: string[]; now: number }[] {
  const cuts = new Set(st.cuts);
  const batches: { bodies: string[]; now: number }[] = [];
  let bodies: string[] = [];
  let time = T0;
  st.steps.forEach(({ step, after, twice }, i) => {
    if (cuts.has(i) && bodies.length > 0) {
      batches.push({ bodies, now: time });
      bodies = [];
    }
    time += after;
    const body = bodyOf(st, step, time, i + 1);
    bodies.push(body);
    if (twice) bodies.push(body);
  });
  batches.push({ bodies, now: time });
  return batches;
}
