/**
 * The remediator end to end on real parts: redis-server DBs seeded as distribution v2.8 and Harbor
 * core write them, fauxqs S3 behind the S3StorageChecker, a file audit log. Requirements 1, 5, 6,
 * 7, 8 and 9 of reliability.md, each named.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { FileAuditLog } from '../../lambdas/adapters/file-audit-log.ts';
import { RedisDedupe } from '../../lambdas/adapters/redis-dedupe.ts';
import { S3AuditLog } from '../../lambdas/adapters/s3-audit-log.ts';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import { S3UploadActivity } from '../../lambdas/adapters/s3-upload-activity.ts';
import { type ActionReport, createRemediator } from '../../lambdas/app/remediate.ts';
import {
  AuditLogError,
  ConfigError,
  RetryableError,
  SafetyRefusalError,
} from '../../lambdas/domain/errors.ts';
import { blobDataKey } from '../../lambdas/domain/keys.ts';
import {
  planForStaleDigest,
  planRemediation,
  type RemediationRecord,
} from '../../lambdas/domain/remediation.ts';
import type { AuditLog } from '../../lambdas/ports.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import {
  clearDb,
  dumpDb,
  seedCacheLayer,
  seedCoreCacheDecoys,
  seedFromTrace,
  seedJobserviceDecoys,
  seedStaleManifests,
} from '../support/seed-registry-cache.ts';
import {
  FailingNotifier,
  finding,
  LAYER,
  type Rig,
  type RigOptions,
  ROOT,
  rigSuite,
  STALE,
} from './remediate.helpers.ts';

const TRACE = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);
const PLAN_OPTS = { rootDirectory: ROOT, registryHost: 'harbor.example.com', cacheLayer: true };

const suite = rigSuite();
let rig: Rig | undefined;

async function seeded(over: RigOptions['config'] = {}, extra = {}) {
  rig = await suite.rig({ config: over, ...extra });
  for (const c of [rig.registry, rig.core, rig.state]) await clearDb(c);
  await seedFromTrace(rig.registry, TRACE, 'AFTER');
  await seedCoreCacheDecoys(rig.core);
  await seedCacheLayer(rig.core, 'library/stale', STALE);
  return rig;
}

describe('remediator: enforce', () => {
  it('clears exactly the stale keys, audit record first, then notifies with the re-push command', async () => {
    const r = await seeded();
    const regBefore = await dumpDb(r.registry);
    const coreBefore = await dumpDb(r.core);
    const report = await r.remediator.remediate(finding());

    expect(report).toMatchObject({
      decision: 'cleared',
      mode: 'enforce',
      repository: 'library/stale',
      digest: STALE,
      repushCommand: 'docker push harbor.example.com/library/stale:v1',
      notified: 1,
      notificationFailures: 0,
    });
    const expected = [
      `blobs::${STALE}`,
      `cache:manifest:digest:${STALE}`,
      `cache:artifact:repository:library/stale:digest:${STALE}`,
    ];
    expect(report.clearedKeys.sort()).toEqual(expected.sort());
    expect(report.plannedKeys).toHaveLength(5); // + the repository-scoped keys v2.8 never wrote
    expect(report.changedKeys).toEqual([]);
    // only those keys changed, in both DBs
    const regAfter = await dumpDb(r.registry);
    expect(regAfter).toEqual(regBefore.filter((k) => k.key !== `blobs::${STALE}`));
    const coreAfter = await dumpDb(r.core);
    expect(coreAfter).toEqual(coreBefore.filter((k) => !expected.includes(k.key)));
    // the audit record holds the evidence and every byte needed to restore
    const files = await r.auditFiles();
    expect(files).toEqual([`${report.auditId}.json`]);
    const rec = await new FileAuditLog(r.auditDir).read(report.auditId!);
    expect(rec).toMatchObject({ mode: 'enforce', decision: 'delete', actor: 'test@pushguard' });
    expect(rec.storageEvidence).toEqual([
      {
        key: blobDataKey(ROOT, STALE),
        checks: [expect.stringMatching(/^missing@/), expect.stringMatching(/^missing@/)],
      },
    ]);
    expect(rec.snapshots.map((s) => s.key).sort()).toEqual(expected.sort());
    expect(r.clock.sleeps[0]).toBe(5000); // the settle delay between the two checks
    expect(r.notifier.sent[0]).toMatchObject({
      mode: 'enforce',
      repushCommand: 'docker push harbor.example.com/library/stale:v1',
    });
    expect(r.notifier.sent[0]!.outcome).toContain(report.auditId!);
  });

  it('a failing notifier is counted and never undoes the clear', async () => {
    const failing = new FailingNotifier();
    const r = await seeded({}, { notifiers: [failing] });
    const report = await r.remediator.remediate(finding());
    expect(report.decision).toBe('cleared');
    expect(report.notificationFailures).toBe(1);
    expect(failing.calls).toBe(1);
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(0);
  });

  it('nothing cached any more → nothing-cached, no audit record', async () => {
    const r = await seeded();
    await r.registry.del(`blobs::${STALE}`);
    await r.core.del(
      `cache:manifest:digest:${STALE}`,
      `cache:artifact:repository:library/stale:digest:${STALE}`
    );
    const report = await r.remediator.remediate(finding());
    expect(report.decision).toBe('nothing-cached');
    expect(await r.auditFiles()).toEqual([]);
  });

  it('a finding without keys opens a ticket or only notifies', async () => {
    const r = await seeded();
    const before = await dumpDb(r.registry);
    const t = await r.remediator.remediate(
      finding({ kind: 'incomplete-push', action: 'open-ticket', digest: undefined })
    );
    expect(t).toMatchObject({ decision: 'ticket-only', plannedKeys: [], ticket: { id: 'PG-1' } });
    expect(r.tickets.calls[0]!.title).toContain('library/stale');
    const n = await r.remediator.remediate(finding({ verified: false }));
    expect(n).toMatchObject({ decision: 'notify-only', plannedKeys: [], clearedKeys: [] });
    expect(await dumpDb(r.registry)).toEqual(before);
    expect(await r.auditFiles()).toEqual([]);
  });

  it('refuses a configuration without a cache-layer connection when cacheLayer is on', async () => {
    const r = await seeded();
    const { cacheLayer: _drop, ...deps } = r.deps;
    expect(() => createRemediator(deps)).toThrow(ConfigError);
  });
});

describe('R1 settle: decide from S3, twice, a settle delay apart', () => {
  it('R1 settle: an object uploaded between the two checks prevents the delete', async () => {
    const r = await seeded();
    const before = await dumpDb(r.registry);
    r.clock.onNextSleep(() => r.putObject(blobDataKey(ROOT, STALE), 'manifest bytes'));
    const report = await r.remediator.remediate(finding());
    expect(report.decision).toBe('data-present');
    expect(report.clearedKeys).toEqual([]);
    expect(await dumpDb(r.registry)).toEqual(before);
    expect(await r.core.exists(`cache:manifest:digest:${STALE}`)).toBe(1);
    expect(await r.auditFiles()).toEqual([]);
    expect(await r.deps.budget.reserve(0, r.clock.now())).toBe(0);
  });

  it('R1 unknown: a storage check that times out deletes nothing and throws a RetryableError', async () => {
    let proxy: FaultProxy | undefined;
    let s3: S3Client | undefined;
    try {
      const url = new URL(suite.aws.endpoint);
      proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
      s3 = new S3Client({
        endpoint: `http://${proxy.address}`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
      const viaProxy = `via-proxy-${process.pid}`;
      await suite.aws.s3.send(new CreateBucketCommand({ Bucket: viaProxy }));
      const checker = new S3StorageChecker({ bucket: viaProxy, client: s3, timeoutMs: 300 });
      const rr = await seeded({}, { checker });
      const before = await dumpDb(rr.registry);
      // first check answers "missing"; then storage stops answering
      rr.clock.onNextSleep(() => {
        proxy!.set({ mode: 'blackhole' });
        proxy!.resetConnections();
      });
      const err = await rr.remediator.remediate(finding()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetryableError);
      expect(String(err)).toMatch(/check 2\/2 .* answered unknown/);
      expect(await dumpDb(rr.registry)).toEqual(before);
      expect(await rr.core.exists(`cache:manifest:digest:${STALE}`)).toBe(1);
      expect(await rr.auditFiles()).toEqual([]);
    } finally {
      s3?.destroy();
      await proxy?.close();
    }
  });
});

describe('R5 allow-list (remediator)', () => {
  it('R5 allow-list: a plan with a key outside the allow-list deletes nothing', async () => {
    const r = await seeded();
    const before = await dumpDb(r.registry);
    const plan = planRemediation(finding(), PLAN_OPTS);
    plan.keys.push({ store: 'registry', key: 'blobs::*', type: 'hash' });
    await expect(r.remediator.execute(plan)).rejects.toThrow(SafetyRefusalError);
    expect(await dumpDb(r.registry)).toEqual(before);
    expect(await r.auditFiles()).toEqual([]);
  });

  it('R5 allow-list: an empty candidate list deletes nothing', async () => {
    const r = await seeded();
    const before = await dumpDb(r.registry);
    const coreBefore = await dumpDb(r.core);
    const plan = { ...planRemediation(finding(), PLAN_OPTS), keys: [] };
    const report = await r.remediator.execute(plan);
    expect(report.decision).toBe('notify-only');
    expect(report.clearedKeys).toEqual([]);
    expect(await dumpDb(r.registry)).toEqual(before);
    expect(await dumpDb(r.core)).toEqual(coreBefore);
  });

  it('R5 allow-list: other repositories sharing a layer and the core decoys are untouched', async () => {
    const r = await seeded();
    const before = await dumpDb(r.registry);
    const coreBefore = await dumpDb(r.core);
    const report = await r.remediator.remediate(
      finding({ kind: 'layer-data-missing', digest: LAYER })
    );
    expect(report.decision).toBe('cleared');
    const gone = new Set([`blobs::${LAYER}`, `repository::library/stale::blobs::${LAYER}`]);
    const after = await dumpDb(r.registry);
    expect(after.filter((k) => k.key !== 'repository::library/stale::blobs')).toEqual(
      before.filter((k) => !gone.has(k.key) && k.key !== 'repository::library/stale::blobs')
    );
    expect(await r.registry.smembers('repository::library/stale::blobs')).toHaveLength(2);
    expect(await dumpDb(r.core)).toEqual(coreBefore); // layers have no cache-layer keys
  });
});

describe('R6 DB check (remediator)', () => {
  it('R6 DB check: pointed at a jobservice DB, the remediator refuses before any write', async () => {
    const r = await seeded();
    await clearDb(r.registry);
    await seedJobserviceDecoys(r.registry);
    const before = await dumpDb(r.registry);
    await expect(r.remediator.remediate(finding())).rejects.toThrow(/jobservice/);
    expect(await dumpDb(r.registry)).toEqual(before);
    expect(await r.core.exists(`cache:manifest:digest:${STALE}`)).toBe(1);
    expect(await r.auditFiles()).toEqual([]);
  });
});

describe('R8 TOCTOU', () => {
  it('R8 TOCTOU: an object uploaded between plan and execute prevents the delete', async () => {
    const r = await seeded();
    const plan = planRemediation(finding(), PLAN_OPTS);
    expect(plan.keys.length).toBeGreaterThan(0);
    await r.putObject(blobDataKey(ROOT, STALE), 'the re-pushed manifest');
    const report = await r.remediator.execute(plan);
    expect(report.decision).toBe('data-present');
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(1);
  });

  it('R8 TOCTOU: a concurrent HSET between snapshot and compare-and-delete keeps that key', async () => {
    const inner = new FileAuditLog(await mkdtemp(join(tmpdir(), 'pushguard-toctou-')));
    let raced = false;
    // the registry re-caches the descriptor while the audit record is being written
    const racing: AuditLog = {
      write: async (rec: RemediationRecord) => {
        await rig!.registry.hset(`blobs::${STALE}`, 'size', '591');
        raced = true;
        return inner.write(rec);
      },
      read: (id) => inner.read(id),
    };
    const r = await seeded({}, { audit: racing });
    const report = await r.remediator.remediate(finding());
    expect(raced).toBe(true);
    await rm(inner.directory, { recursive: true, force: true });
    expect(report.decision).toBe('changed-since-plan');
    expect(report.changedKeys).toEqual([`blobs::${STALE}`]);
    expect(report.clearedKeys).toHaveLength(2); // the cache-layer keys did not change
    expect(await r.registry.hget(`blobs::${STALE}`, 'size')).toBe('591');
  });
});

describe('R9 write-ahead audit', () => {
  it('R9 write-ahead: a failing audit sink (S3) aborts and deletes nothing', async () => {
    const r = await seeded(
      {},
      { audit: new S3AuditLog({ client: suite.aws.s3, bucket: 'no-such-audit-bucket' }) }
    );
    const before = await dumpDb(r.registry);
    const coreBefore = await dumpDb(r.core);
    const err = await r.remediator.remediate(finding()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogError);
    expect(await dumpDb(r.registry)).toEqual(before);
    expect(await dumpDb(r.core)).toEqual(coreBefore);
    expect(r.notifier.sent).toEqual([]);
  });

  it('R9 write-ahead: a sink that throws a plain error also aborts', async () => {
    const broken: AuditLog = {
      write: async () => {
        throw new Error('disk full');
      },
      read: async () => {
        throw new Error('unused');
      },
    };
    const r = await seeded({}, { audit: broken });
    const before = await dumpDb(r.registry);
    await expect(r.remediator.remediate(finding())).rejects.toThrow(AuditLogError);
    expect(await dumpDb(r.registry)).toEqual(before);
  });
});

describe('R7 caps and dry-run', () => {
  const N = 1000;

  async function staleRig(config: RigOptions['config'], perHour?: number) {
    rig = await suite.rig({ config: { settleMs: 0, ...config }, perHour });
    for (const c of [rig.registry, rig.core, rig.state]) await clearDb(c);
    const digests = await seedStaleManifests(rig.registry, N);
    await seedCoreCacheDecoys(rig.core);
    const plans = digests.map((d) =>
      planForStaleDigest(d, [], {
        ...PLAN_OPTS,
        cacheLayer: false,
        now: '2026-11-25T20:00:00.000Z',
        evidence: [`blobs::${d} cached, data 404`],
      })
    );
    return { r: rig, plans, digests };
  }

  it('R7 caps: 1,000 stale keys with a run cap of 20 → exactly 20 deleted and one ticket', async () => {
    const { r, plans } = await staleRig({ maxDeletesPerRun: 20, cacheLayer: false });
    const limit = pLimit(16); // concurrent executes share the run cap
    const reports = await Promise.all(plans.map((p) => limit(() => r.remediator.execute(p))));
    const summary = await r.remediator.endRun();

    expect(reports.filter((x) => x.decision === 'cleared')).toHaveLength(20);
    expect(reports.filter((x) => x.decision === 'over-cap')).toHaveLength(N - 20);
    expect(await r.registry.dbsize()).toBe(N - 20);
    expect(r.tickets.calls).toHaveLength(1);
    expect(r.tickets.calls[0]!.title).toMatch(/980 finding\(s\), 980 key\(s\) not cleared/);
    expect(summary).toMatchObject({ decision: 'over-cap', ticket: { id: 'PG-1' } });
    expect(summary!.plannedKeys).toHaveLength(N - 20);
    expect((await r.auditFiles()).length).toBe(20);
    expect(r.notifier.sent.filter((n) => n.severity === 'critical')).toHaveLength(1);
    // a new run starts with a fresh run cap
    expect(await r.remediator.endRun()).toBeUndefined();
  });

  it('R7 caps: the per-hour budget is shared by instances', async () => {
    const { r, plans } = await staleRig({ maxDeletesPerRun: 20, cacheLayer: false }, 30);
    const other = createRemediator(r.deps);
    const a: ActionReport[] = [];
    const b: ActionReport[] = [];
    for (const p of plans.slice(0, 25)) a.push(await r.remediator.execute(p));
    for (const p of plans.slice(25, 50)) b.push(await other.execute(p));
    expect(a.filter((x) => x.decision === 'cleared')).toHaveLength(20);
    expect(b.filter((x) => x.decision === 'cleared')).toHaveLength(10);
    expect(b.find((x) => x.decision === 'over-cap')?.detail).toMatch(/per-hour/);
    expect(await r.registry.dbsize()).toBe(N - 30);
  });

  it('R7 caps: a finding needing more keys than the per-finding cap is held back', async () => {
    const r = await seeded({ maxKeysPerFinding: 2 });
    const report = await r.remediator.remediate(
      finding({ kind: 'layer-data-missing', digest: LAYER })
    );
    expect(report.decision).toBe('over-cap');
    expect(report.detail).toMatch(/per-finding cap of 2/);
    expect(await r.registry.exists(`blobs::${LAYER}`)).toBe(1);
    const summary = await r.remediator.endRun();
    expect(summary?.ticket).toBeDefined();
  });

  it('R7 dry-run: 1,000 stale keys → 0 deleted and a complete plan', async () => {
    const { r, digests } = await staleRig({
      mode: undefined,
      maxDeletesPerRun: 20,
      cacheLayer: false,
    });
    const before = await dumpDb(r.registry);
    const limit = pLimit(16);
    const reports = await Promise.all(
      digests.map((d) =>
        limit(() => r.remediator.remediate({ ...finding({ digest: d }), tag: undefined }))
      )
    );
    expect(await r.remediator.endRun()).toBeUndefined();
    expect(r.tickets.calls).toHaveLength(0);
    expect(await dumpDb(r.registry)).toEqual(before);
    expect(reports.every((x) => x.mode === 'dry-run' && x.decision === 'would-clear')).toBe(true);
    const planned = new Set(reports.flatMap((x) => x.plannedKeys));
    for (const d of digests) expect(planned.has(`blobs::${d}`)).toBe(true);
    const files = await r.auditFiles();
    expect(files).toHaveLength(N);
    const one = await new FileAuditLog(r.auditDir).read(reports[0]!.auditId!);
    expect(one.decision).toBe('dry-run');
    expect(r.notifier.sent[0]!.outcome).toMatch(/^Dry run: would clear 1 Redis key/);
  });
});

describe('R2 idempotent remediation: one action per finding', () => {
  it('R2 redelivery: the same finding three times at once gives one audit record and one delete', async () => {
    const r = await seeded();
    const remediator = createRemediator({ ...r.deps, claims: new RedisDedupe(r.state) });
    const reports = await Promise.all([1, 2, 3].map(() => remediator.remediate(finding())));
    expect(reports.map((x) => x.decision).sort()).toEqual(['cleared', 'duplicate', 'duplicate']);
    expect(await r.auditFiles()).toHaveLength(1);
    expect(r.notifier.sent).toHaveLength(1);
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(0);
  });
  it('R2 redelivery: a failed attempt releases its claim so the retry acts', async () => {
    const r = await seeded();
    const claims = new RedisDedupe(r.state);
    const broken: AuditLog = {
      write: async () => {
        throw new Error('disk full');
      },
      read: async () => {
        throw new Error('unused');
      },
    };
    await expect(
      createRemediator({ ...r.deps, audit: broken, claims }).remediate(finding())
    ).rejects.toBeInstanceOf(AuditLogError);
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(1);
    const retry = await createRemediator({ ...r.deps, claims }).remediate(finding());
    expect(retry.decision).toBe('cleared');
  });
});

describe('R8 busy repository: nothing is deleted while a push writes to it', () => {
  const uploadsOf = (repo: string) => `${ROOT}/docker/registry/v2/repositories/${repo}/_uploads`;
  it('R8 push active: a fresh upload session in the repository defers the delete (retryable)', async () => {
    const r = await seeded();
    const uploads = new S3UploadActivity({
      bucket: r.bucket,
      rootDirectory: ROOT,
      client: suite.aws.s3,
    });
    const remediator = createRemediator({ ...r.deps, uploads });
    await r.putObject(
      `${uploadsOf('library/stale')}/9f1c7a2e-0000-4000-8000-000000000001/startedat`,
      'now'
    );
    await expect(remediator.remediate(finding())).rejects.toBeInstanceOf(RetryableError);
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(1);
    expect(await r.auditFiles()).toEqual([]);
  });
  it('R8 push active: uploads in other repositories, or older than the horizon, do not block', async () => {
    const r = await seeded({ activePushMs: 60_000 });
    const uploads = new S3UploadActivity({
      bucket: r.bucket,
      rootDirectory: ROOT,
      client: suite.aws.s3,
    });
    await r.putObject(
      `${uploadsOf('library/other')}/9f1c7a2e-0000-4000-8000-000000000002/startedat`,
      'now'
    );
    await r.putObject(
      `${uploadsOf('library/stale')}/9f1c7a2e-0000-4000-8000-000000000003/startedat`,
      'old'
    );
    // two minutes later, that session has not been written again: no push is active
    const clock = { ...r.clock, now: () => Date.now() + 120_000 };
    const report = await createRemediator({ ...r.deps, clock, uploads }).remediate(finding());
    expect(report.decision).toBe('cleared');
  });
  it('R8 push active: an S3 that cannot list the repository defers the delete', async () => {
    const r = await seeded();
    const uploads = new S3UploadActivity({
      bucket: r.bucket,
      rootDirectory: ROOT,
      clientConfig: {
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
        forcePathStyle: true,
      },
      timeoutMs: 500,
    });
    await expect(
      createRemediator({ ...r.deps, uploads }).remediate(finding())
    ).rejects.toBeInstanceOf(RetryableError);
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(1);
  });
});
