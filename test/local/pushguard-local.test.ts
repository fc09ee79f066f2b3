/**
 * `pushguard local --json` as a user runs it: a child process on free ports, the ready line
 * first, objects written through its S3 endpoint with the AWS SDK, the finding and the dry-run
 * action on stdout, the Harbor webhook with its generated Authorization, and a clean SIGTERM.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateDbs, redisClient, redisUrl } from '../support/redis.ts';
import { randomDigest, seedBlob, seedManifest } from '../support/seed-registry-cache.ts';
import { type LocalProcess, startLocalCli } from './support/cli.ts';
import { s3ClientFor } from './support/emulator.ts';

const R = 'docker/registry/v2';
const revisionLink = (repo: string, d: string) =>
  `${R}/repositories/${repo}/_manifests/revisions/sha256/${d.slice(7)}/link`;
const blobData = (d: string) => `${R}/blobs/sha256/${d.slice(7, 9)}/${d.slice(7)}/data`;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('pushguard local --json (child process)', () => {
  let cli: LocalProcess;
  let auditDir: string;
  let registryDb: number;
  let stateDb: number;
  const stale = randomDigest();
  const healthy = randomDigest();

  beforeAll(async () => {
    [registryDb, stateDb] = (await allocateDbs(2)) as [number, number];
    const registry = await redisClient(registryDb);
    // The registry cached both manifests; only the healthy one still has its data.
    await seedManifest(registry, { digest: stale, size: 590 });
    await seedManifest(registry, { digest: healthy, size: 600 });
    await seedBlob(registry, 'library/stale', { digest: randomDigest(), size: 1234 });
    registry.disconnect();
    auditDir = mkdtempSync(join(tmpdir(), 'pushguard-local-audit-'));
    cli = startLocalCli([
      '--json',
      '--s3-port',
      '0',
      '--webhook-port',
      '0',
      '--redis',
      redisUrl(),
      '--registry-db',
      String(registryDb),
      '--state-db',
      String(stateDb),
      '--window',
      '2s',
      '--settle',
      '50ms',
      '--audit-dir',
      auditDir,
    ]);
  });

  afterAll(async () => {
    await cli?.terminate();
    rmSync(auditDir, { recursive: true, force: true });
  });

  it('prints the ready line first, then the finding and the dry-run action', async () => {
    // Assess the ready line.
    const ready = await cli.next((l) => l.event === 'ready', 'the ready line');
    expect(cli.lines[0]).toBe(ready);
    expect(ready).toMatchObject({
      bucket: 'registry',
      redis: redisUrl(),
      registryDb,
      mode: 'dry-run',
      // The helper starts it with --ephemeral: the ready line says the bucket is in memory.
      dataDir: null,
      objectsFound: 0,
    });
    expect(ready.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.webhookUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    // Act: a manifest PUT the registry skipped (revision link, no data), and a healthy one.
    const s3 = s3ClientFor(String(ready.s3Endpoint));
    const put = (Key: string, Body: string) =>
      s3.send(new PutObjectCommand({ Bucket: 'registry', Key, Body }));
    await put(blobData(healthy), '{"schemaVersion":2}');
    await put(revisionLink('library/ok', healthy), healthy);
    await put(revisionLink('library/stale', stale), stale);
    s3.destroy();

    // Assess: one verified finding for the stale digest, and the plan it would carry out.
    const finding = await cli.next(
      (l) => l.event === 'finding' && l.digest === stale,
      'the finding'
    );
    expect(finding).toMatchObject({
      kind: 'manifest-data-missing',
      repository: 'library/stale',
      verified: true,
      action: 'clear-cache',
    });
    const action = await cli.next((l) => l.event === 'action' && l.digest === stale, 'the action');
    expect(action).toMatchObject({ mode: 'dry-run', decision: 'would-clear', clearedKeys: [] });
    expect(action.plannedKeys).toEqual(
      expect.arrayContaining([expect.stringContaining(`blobs::${stale}`)])
    );
    expect(readdirSync(auditDir).length).toBeGreaterThan(0);
    const registry = await redisClient(registryDb);
    expect(await registry.exists(`blobs::${stale}`)).toBe(1);
    registry.disconnect();
    expect(cli.lines.some((l) => l.event === 'finding' && l.digest === healthy)).toBe(false);
    expect(cli.noise).toEqual([]);
  });

  it('serves the Harbor webhook with the generated Authorization header', async () => {
    const ready = await cli.next((l) => l.event === 'ready', 'the ready line');
    const auth = String(ready.webhookAuthorization);
    expect(auth).toMatch(/^Bearer \S{20,}$/);
    const body = JSON.stringify({
      type: 'PUSH_ARTIFACT',
      occur_at: 1_700_000_000,
      operator: 'admin',
      event_data: {
        resources: [{ digest: stale, tag: 'v1', resource_url: `h/library/stale:v1` }],
        repository: { name: 'stale', namespace: 'library', repo_full_name: 'library/stale' },
      },
    });
    const post = (headers: Record<string, string>) =>
      fetch(String(ready.webhookUrl), { method: 'POST', headers, body });
    expect((await post({ 'content-type': 'application/json' })).status).toBe(401);
    const ok = await post({ 'content-type': 'application/json', authorization: auth });
    expect(ok.status).toBe(202);
    const again = await post({ 'content-type': 'application/json', authorization: auth });
    expect(again.status).toBe(200);
  });

  it('SIGTERM stops everything it started and exits 0, freeing its ports', async () => {
    const ready = await cli.next((l) => l.event === 'ready', 'the ready line');
    const ports = [ready.s3Endpoint, ready.webhookUrl].map((u) => Number(new URL(String(u)).port));
    expect(await cli.terminate()).toBe(0);
    for (const port of ports) expect(await portIsFree(port)).toBe(true);
    expect(cli.stderr()).toContain('pushguard local: stopped');
  });
});
