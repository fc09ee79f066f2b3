/**
 * The remediator's restore and removal steps on real parts: redis-server DBs, the local S3
 * emulator (conditional writes), a file audit log, Harbor's cache layer as a restore source.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { encode } from '@msgpack/msgpack';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CacheLayerSource } from '../../lambdas/adapters/cache-layer-source.ts';
import { RedisDedupe } from '../../lambdas/adapters/redis-dedupe.ts';
import { RedisDeleteBudget } from '../../lambdas/adapters/redis-delete-budget.ts';
import { RedisRemovalRate } from '../../lambdas/adapters/redis-removal-rate.ts';
import { RegistryPeerSource } from '../../lambdas/adapters/registry-peer-source.ts';
import { S3BlobStager } from '../../lambdas/adapters/s3-blob-stager.ts';
import { S3ReferenceReader } from '../../lambdas/adapters/s3-reference-reader.ts';
import { createRemediator } from '../../lambdas/app/remediate.ts';
import { RetryableError } from '../../lambdas/domain/errors.ts';
import {
  blobDataKey,
  layerLinkKey,
  revisionLinkKey,
  tagCurrentLinkKey,
} from '../../lambdas/domain/keys.ts';
import type { Finding } from '../../lambdas/domain/types.ts';
import { startTestEmulator, type TestEmulator } from '../local/support/emulator.ts';
import { allocateDbs } from '../support/redis.ts';
import { finding, makeRig, type Rig, ROOT } from './remediate.helpers.ts';

const digestOf = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: digestOf('cfg'),
      size: 3,
    },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf('L'), size: 1 },
    ],
  })
);
const M = digestOf(MANIFEST);
const REPO = 'team/app';

let t: TestEmulator;
let dbs: number[];
let rig: Rig;

beforeAll(async () => {
  t = await startTestEmulator({ bucket: 'unused' });
  dbs = await allocateDbs(3);
});
afterAll(async () => t?.stop());
afterEach(async () => {
  await rig?.close();
});

async function newRig(mode: 'enforce' | 'dry-run' = 'enforce', s3: S3Client = t.s3): Promise<Rig> {
  rig = await makeRig({
    s3: t.s3,
    dbs: { registry: dbs[0]!, core: dbs[1]!, state: dbs[2]! },
    config: { mode, cacheLayer: false, sweepRemovalsPerMinute: 3 },
  });
  await rig.registry.flushdb();
  await rig.core.flushdb();
  await rig.state.flushdb();
  await rig.registry.hset(`blobs::${M}`, {
    digest: M,
    size: String(MANIFEST.length),
    mediatype: 'x',
  });
  const stager = new S3BlobStager(t.s3, rig.bucket);
  rig.deps.restore = {
    sources: [
      new RegistryPeerSource({ url: 'http://127.0.0.1:1', stager }),
      new CacheLayerSource(rig.core, stager),
    ],
    references: new S3ReferenceReader(s3, rig.bucket, ROOT, 1000),
  };
  rig.deps.removal = {
    budget: new RedisDeleteBudget(rig.state, { perHour: 1000, keyPrefix: 'pushguard:removal:' }),
    rate: new RedisRemovalRate(rig.state),
  };
  rig.deps.claims = new RedisDedupe(rig.state);
  rig.remediator = createRemediator(rig.deps);
  await rig.core.set(`cache:manifest:digest:${M}`, Buffer.from(encode(MANIFEST)));
  return rig;
}

const manifestFinding = (over: Partial<Finding> = {}) =>
  finding({ digest: M, repository: REPO, kind: 'manifest-data-missing', ...over });

async function objectBytes(key: string): Promise<Buffer | undefined> {
  try {
    const out = await t.s3.send(new GetObjectCommand({ Bucket: rig.bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

describe('restore when still referenced', () => {
  it('a revision link still names M: restored from the second source, audit record first, entry kept', async () => {
    await newRig();
    await rig.putObject(revisionLinkKey(ROOT, REPO, M), M);
    const report = await rig.remediator.remediate(manifestFinding());
    expect(report.decision).toBe('restored');
    expect(report.restored).toEqual({
      source: 'cache-layer',
      origin: `redis cache:manifest:digest:${M}`,
      key: blobDataKey(ROOT, M),
      verifiedDigest: M,
      size: MANIFEST.length,
    });
    expect(report.clearedKeys).toEqual([]);
    expect((await objectBytes(blobDataKey(ROOT, M)))?.equals(MANIFEST)).toBe(true);
    expect(await rig.registry.exists(`blobs::${M}`)).toBe(1);
    const [file] = await rig.auditFiles();
    const stored = JSON.parse(readFileSync(join(rig.auditDir, file!), 'utf8')).record;
    expect(stored).toMatchObject({ decision: 'restore', restore: report.restored, snapshots: [] });
    expect(stored.reason).toContain(`revision link ${revisionLinkKey(ROOT, REPO, M)}`);
    expect(rig.notifier.sent.map((n) => n.outcome)).toEqual([
      expect.stringMatching(/^Restored .* from cache-layer redis cache:manifest:digest:sha256:/),
    ]);
  });

  it("the tag's current link names M (no revision link): restored", async () => {
    await newRig();
    await rig.putObject(tagCurrentLinkKey(ROOT, REPO, 'v1'), `${M}\n`);
    expect((await rig.remediator.remediate(manifestFinding())).decision).toBe('restored');
  });

  it('nothing references M any more: not restored, the cache entry is cleared, and the report says why', async () => {
    await newRig();
    const report = await rig.remediator.remediate(manifestFinding());
    expect(report.decision).toBe('cleared');
    expect(report.detail).toBe(`Not restored: no revision or tag link in ${REPO} names it`);
    expect(await objectBytes(blobDataKey(ROOT, M))).toBeUndefined();
    expect(await rig.registry.exists(`blobs::${M}`)).toBe(0);
  });

  it('a layer with a link but no linked manifest listing it is not restored', async () => {
    await newRig();
    const L = digestOf('L');
    await rig.registry.hset(`blobs::${L}`, { digest: L, size: '1', mediatype: 'x' });
    await rig.putObject(layerLinkKey(ROOT, REPO, L), L);
    await rig.putObject(revisionLinkKey(ROOT, REPO, M), M);
    // M's own data is gone too: no linked manifest can be read to list L.
    const report = await rig.remediator.remediate(
      finding({ digest: L, repository: REPO, kind: 'layer-data-missing' })
    );
    expect(report.decision).toBe('cleared');
    expect(report.detail).toBe(`Not restored: no manifest linked in ${REPO} lists it`);
  });

  it('dry-run never restores', async () => {
    await newRig('dry-run');
    await rig.putObject(revisionLinkKey(ROOT, REPO, M), M);
    const report = await rig.remediator.remediate(manifestFinding());
    expect(report.decision).toBe('would-clear');
    expect(await objectBytes(blobDataKey(ROOT, M))).toBeUndefined();
  });

  it('a reference that cannot be read is doubt: RetryableError, nothing written or deleted', async () => {
    const dead = new S3Client({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    await newRig('enforce', dead);
    await expect(rig.remediator.remediate(manifestFinding())).rejects.toBeInstanceOf(
      RetryableError
    );
    expect(await rig.registry.exists(`blobs::${M}`)).toBe(1);
    expect(await rig.auditFiles()).toEqual([]);
    dead.destroy();
  });

  it('data that reappeared between staging and writing is not overwritten', async () => {
    await newRig();
    await rig.putObject(revisionLinkKey(ROOT, REPO, M), M);
    // The second storage check sees it missing; a writer puts other bytes right after.
    const original = rig.deps.audit.write.bind(rig.deps.audit);
    rig.deps.audit.write = async (record) => {
      const id = await original(record);
      await t.s3.send(
        new PutObjectCommand({ Bucket: rig.bucket, Key: blobDataKey(ROOT, M), Body: 'raced' })
      );
      return id;
    };
    rig.remediator = createRemediator(rig.deps);
    const report = await rig.remediator.remediate(manifestFinding());
    expect(report.decision).toBe('data-present');
    expect(report.detail).toContain('reappeared before the restore; nothing overwritten');
    expect((await objectBytes(blobDataKey(ROOT, M)))?.toString()).toBe('raced');
  });
});

describe('clear on removal (blob-data-removed)', () => {
  const removed = (d: string): Finding => ({
    id: `blob-data-removed||${d}`,
    kind: 'blob-data-removed',
    repository: '',
    digest: d,
    firstSeen: '2026-11-25T20:00:00.000Z',
    lastSeen: '2026-11-25T20:00:00.000Z',
    evidence: ['s3 ObjectRemoved:Delete …'],
    verified: true,
    action: 'clear-cache',
  });

  it('clears blobs::<d> under its own budget; a sweep is notified once, never ticketed', async () => {
    await newRig();
    const ds = ['a', 'b', 'c', 'd', 'e'].map((s) => digestOf(s));
    for (const d of ds)
      await rig.registry.hset(`blobs::${d}`, { digest: d, size: '1', mediatype: 'x' });
    const reports = [];
    for (const d of ds) reports.push(await rig.remediator.remediate(removed(d)));
    expect(reports.map((r) => r.decision)).toEqual(Array(5).fill('cleared'));
    expect(reports.map((r) => r.clearedKeys)).toEqual(ds.map((d) => [`blobs::${d}`]));
    // Threshold 3 per minute: the third removal on is a sweep.
    expect(reports.map((r) => r.sweep === true)).toEqual([false, false, true, true, true]);
    for (const d of ds) expect(await rig.registry.exists(`blobs::${d}`)).toBe(0);
    const outcomes = rig.notifier.sent.map((n) => n.outcome);
    expect(outcomes).toHaveLength(3);
    expect(outcomes[2]).toMatch(/^Garbage-collection sweep: 3 blob data removals/);
    expect(rig.tickets.calls).toEqual([]);
    // The per-hour budget real findings need is untouched.
    const main = new RedisDeleteBudget(rig.state, { perHour: 10 });
    expect(await main.used(rig.clock.now())).toBe(0);
    expect(
      await new RedisDeleteBudget(rig.state, { perHour: 1, keyPrefix: 'pushguard:removal:' }).used(
        rig.clock.now()
      )
    ).toBe(5);
  });

  it('a removal whose data is back, or that nothing cached, does nothing and says nothing', async () => {
    await newRig();
    const d = digestOf('back');
    await rig.putObject(blobDataKey(ROOT, d), 'back');
    expect((await rig.remediator.remediate(removed(d))).decision).toBe('data-present');
    const gone = digestOf('never-cached');
    expect((await rig.remediator.remediate(removed(gone))).decision).toBe('nothing-cached');
    expect(rig.notifier.sent).toEqual([]);
  });
});
