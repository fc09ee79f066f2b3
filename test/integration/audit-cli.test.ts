import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrl, redisUrlForDb } from '../support/redis.ts';
import { connectFailFast, dumpDb, seedJobserviceDecoys } from '../support/seed-registry-cache.ts';
import { BUCKET, ROOT, seedAuditWorld } from './audit.helpers.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pushguard.mjs');

/** Runs the built `pushguard audit` in a child process (async: fauxqs lives in this process). */
function cli(args: string[], cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'audit', ...args],
      {
        cwd,
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          NODE_NO_WARNINGS: '1',
        },
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      }
    );
  });
}

describe('CLI: pushguard audit', () => {
  let aws: TestAws;
  let client: Redis;
  let db: number;
  let world: Awaited<ReturnType<typeof seedAuditWorld>>;
  const base = () => ['--s3', `s3://${BUCKET}/${ROOT}`, '--endpoint', aws.endpoint];

  beforeAll(async () => {
    aws = await startFauxqs();
    await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    [db] = (await allocateDbs(1)) as [number];
    client = await connectFailFast(redisUrl(), db);
    world = await seedAuditWorld(client, aws);
  });
  afterAll(async () => {
    client.disconnect();
    await aws.stop();
  });

  it('--json prints one object per stale entry then a summary, and exits 3', async () => {
    const before = await dumpDb(client);
    const run = await cli([...base(), '--redis', redisUrlForDb(db), '--json']);
    expect(run.code).toBe(3);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const stale = [
      [world.staleManifest, 'manifest-data-missing'],
      [world.staleLayer, 'layer-data-missing'],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(lines.map((l) => [l.type, l.digest, l.kind])).toEqual([
      ['stale', ...stale[0]!],
      ['stale', ...stale[1]!],
      ['summary', undefined, undefined],
    ]);
    expect(lines.at(-1)).toMatchObject({ checked: 7, present: 5, stale: 2, unknown: 0 });
    expect(await dumpDb(client)).toEqual(before);
  });

  it('prints a table and a summary without --json', async () => {
    const run = await cli([...base(), '--redis', redisUrlForDb(db), '--concurrency', '2']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^DIGEST\s+KIND\s+REPOSITORIES\s+WHAT IT BREAKS$/m);
    expect(run.stdout).toContain('team-a/payments-api,team-b/search');
    expect(run.stdout).toMatch(/stale \(data missing\)\s+2/);
  });

  it('exits 0 on a clean cache', async () => {
    const [cleanDb] = (await allocateDbs(1)) as [number];
    const c = await connectFailFast(redisUrl(), cleanDb);
    try {
      await c.hset(`blobs::${world.shared}`, 'digest', world.shared, 'size', '10');
      const run = await cli([...base(), '--redis', redisUrlForDb(cleanDb), '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout.trim())).toMatchObject({
        type: 'summary',
        checked: 1,
        stale: 0,
      });
    } finally {
      c.disconnect();
    }
  });

  it('exits 1 (not clean, not stale) when S3 cannot be reached', async () => {
    const run = await cli([
      '--s3',
      `s3://${BUCKET}/${ROOT}`,
      '--endpoint',
      'http://127.0.0.1:9',
      '--redis',
      redisUrlForDb(db),
      '--json',
      '--timeout-ms',
      '500',
    ]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ stale: 0, unknown: 7 });
    expect(run.stderr).toContain('could not be checked');
  });

  it('refuses a jobservice DB with a clear error (exit 1)', async () => {
    const [jobDb] = (await allocateDbs(1)) as [number];
    const c = await connectFailFast(redisUrl(), jobDb);
    try {
      await seedJobserviceDecoys(c);
      const run = await cli([...base(), '--redis', redisUrlForDb(jobDb)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/jobservice|job/i);
      expect(run.stdout).toBe('');
    } finally {
      c.disconnect();
    }
  });

  it('--fix clears the stale keys under the remediator rules and reports each decision', async () => {
    // Prepare: a fresh copy of the world in its own DB.
    const [fixDb] = (await allocateDbs(1)) as [number];
    const c = await connectFailFast(redisUrl(), fixDb);
    const auditDir = await mkdtemp(join(tmpdir(), 'pushguard-cli-fix-'));
    try {
      const w = await seedAuditWorld(c, aws);
      // Act
      const run = await cli([
        ...base(),
        '--redis',
        redisUrlForDb(fixDb),
        '--fix',
        '--json',
        '--settle-ms',
        '0',
        '--audit-dir',
        auditDir,
      ]);
      // Assess
      expect(run.code).toBe(3);
      const lines = run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.type === 'stale').map((l) => l.fix.decision)).toEqual([
        'cleared',
        'cleared',
      ]);
      expect(lines.at(-1).fix).toMatchObject({ cleared: 2, keysCleared: 6, errors: 0 });
      expect(await c.exists(`blobs::${w.staleManifest}`, `blobs::${w.staleLayer}`)).toBe(0);
      expect(await c.exists(`blobs::${w.shared}`, `blobs::${w.app.manifest}`)).toBe(2);
      expect(readdirSync(auditDir)).toHaveLength(2);
    } finally {
      c.disconnect();
      await rm(auditDir, { recursive: true, force: true });
    }
  });

  it('--fix without --audit-dir writes the records to ./.pushguard/audit, git-ignored, and says where', async () => {
    const [fixDb] = (await allocateDbs(1)) as [number];
    const c = await connectFailFast(redisUrl(), fixDb);
    const cwd = await mkdtemp(join(tmpdir(), 'pushguard-cli-cwd-'));
    try {
      await seedAuditWorld(c, aws);
      const run = await cli(
        [...base(), '--redis', redisUrlForDb(fixDb), '--fix', '--json', '--settle-ms', '0'],
        cwd
      );
      expect(run.code).toBe(3);
      const dir = join(cwd, '.pushguard', 'audit');
      expect(readdirSync(dir)).toHaveLength(2);
      expect(readFileSync(join(cwd, '.pushguard', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
      expect(run.stderr).toContain(`audit records go to ${dir}`);
      const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
      expect(summary).toMatchObject({ type: 'summary', auditDir: dir });
    } finally {
      c.disconnect();
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('exits 2 on bad usage (no --s3, Redis URL without a DB number)', async () => {
    expect((await cli(['--redis', redisUrlForDb(db)])).code).toBe(2);
    const noDb = await cli([...base(), '--redis', redisUrl()]);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('explicit DB number');
  });
});
