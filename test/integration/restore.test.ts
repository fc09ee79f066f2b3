/**
 * `pushguard restore` (R9): after a real delete by the remediator, the audit record brings back
 * byte-identical keys; conflicts, tampered records and wrong DBs write nothing.
 */

import { readFileSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register } from '../../lambdas/cli/commands/restore.ts';
import { redisUrlForDb } from '../support/redis.ts';
import {
  clearDb,
  contentOfDb,
  dumpDb,
  dumpKeys,
  seedCacheLayer,
  seedCoreCacheDecoys,
  seedFromTrace,
  seedJobserviceDecoys,
} from '../support/seed-registry-cache.ts';
import { finding, LAYER, type Rig, rigSuite, STALE } from './remediate.helpers.ts';

const TRACE = readFileSync(
  new URL('../fixtures/registry-traces/e3-repush-stale.redis.txt', import.meta.url),
  'utf8'
);

const suite = rigSuite();
let rig: Rig | undefined;

async function cli(args: string[]): Promise<{ lines: string[] }> {
  const lines: string[] = [];
  const program = new Command('pushguard').exitOverride();
  register(program, { out: (l) => lines.push(l) });
  await program.parseAsync(['node', 'pushguard', 'restore', ...args]);
  return { lines };
}

/** Seeds, runs a real enforce remediation, and returns the audit record file and the before-state. */
async function deleted(
  kind: 'manifest-data-missing' | 'layer-data-missing' = 'manifest-data-missing'
) {
  rig = await suite.rig();
  for (const c of [rig.registry, rig.core, rig.state]) await clearDb(c);
  await seedFromTrace(rig.registry, TRACE, 'AFTER');
  await seedCoreCacheDecoys(rig.core);
  await seedCacheLayer(rig.core, 'library/stale', STALE, Buffer.from([0x00, 0xff, 0xfe, 0x7b]));
  const regBefore = await contentOfDb(rig.registry);
  const coreBefore = await contentOfDb(rig.core);
  const digest = kind === 'manifest-data-missing' ? STALE : LAYER;
  const report = await rig.remediator.remediate(finding({ kind, digest }));
  expect(report.decision).toBe('cleared');
  const file = join(rig.auditDir, `${report.auditId}.json`);
  return { r: rig, file, report, regBefore, coreBefore };
}

const urls = () => [
  '--redis',
  redisUrlForDb(suite.dbs.registry),
  '--cache-layer-redis',
  redisUrlForDb(suite.dbs.core),
];

describe('pushguard restore', () => {
  it('R9 restore: after a real delete, the audit record restores byte-identical keys', async () => {
    const { r, file, report, regBefore, coreBefore } = await deleted();
    expect(await contentOfDb(r.registry)).not.toEqual(regBefore);
    const { lines } = await cli([file, ...urls()]);
    const out = JSON.parse(lines[0]!);
    expect(out).toMatchObject({ event: 'restore', record: report.auditId });
    expect(out.restored.sort()).toEqual([...report.clearedKeys].sort());
    expect(await contentOfDb(r.registry)).toEqual(regBefore);
    expect(await contentOfDb(r.core)).toEqual(coreBefore); // msgpack bytes and TTL presence
    const [ttl] = await dumpKeys(r.core, [`cache:manifest:digest:${STALE}`]);
    expect(ttl!.hasTtl).toBe(true);
  });

  it('R9 restore: a layer (hashes + set member) comes back exactly', async () => {
    const { r, file, regBefore } = await deleted('layer-data-missing');
    expect(await r.registry.sismember('repository::library/stale::blobs', LAYER)).toBe(0);
    await cli([file, '--redis', redisUrlForDb(suite.dbs.registry)]);
    expect(await contentOfDb(r.registry)).toEqual(regBefore);
    expect(await r.registry.sismember('repository::library/stale::blobs', LAYER)).toBe(1);
  });

  it('restoring twice is a no-op the second time', async () => {
    const { file } = await deleted();
    await cli([file, ...urls()]);
    const { lines } = await cli([file, ...urls()]);
    const out = JSON.parse(lines[0]!);
    expect(out.restored).toEqual([]);
    expect(out.unchanged).toHaveLength(3);
  });

  it('R9 restore: refuses to overwrite a key holding different content, in any store, unless --force', async () => {
    const { r, file } = await deleted();
    await r.core.set(`cache:manifest:digest:${STALE}`, 'newer value', 'EX', 100);
    const regBefore = await dumpDb(r.registry);
    const coreBefore = await dumpDb(r.core);
    await expect(cli([file, ...urls()])).rejects.toThrow(/refusing to overwrite 1 key/);
    expect(await dumpDb(r.registry)).toEqual(regBefore); // registry untouched too: all or nothing
    expect(await dumpDb(r.core)).toEqual(coreBefore);
    const { lines } = await cli([file, ...urls(), '--force']);
    expect(JSON.parse(lines[0]!).overwritten).toEqual([`cache:manifest:digest:${STALE}`]);
    expect(await r.registry.exists(`blobs::${STALE}`)).toBe(1);
  });

  it('R9 restore: a tampered record is refused and nothing is written', async () => {
    const { r, file } = await deleted();
    await chmod(file, 0o644);
    await writeFile(file, (await readFile(file, 'utf8')).replace('"size": "590"', '"size": "1"'));
    const before = await dumpDb(r.registry);
    await expect(cli([file, ...urls()])).rejects.toThrow(/was modified/);
    expect(await dumpDb(r.registry)).toEqual(before);
  });

  it('needs --cache-layer-redis when the record holds cache-layer keys', async () => {
    const { r, file } = await deleted();
    const before = await dumpDb(r.registry);
    await expect(cli([file, '--redis', redisUrlForDb(suite.dbs.registry)])).rejects.toThrow(
      /--cache-layer-redis/
    );
    expect(await dumpDb(r.registry)).toEqual(before);
  });

  it('R6 restore: refuses to write into a jobservice DB', async () => {
    const { r, file } = await deleted();
    await clearDb(r.registry);
    await seedJobserviceDecoys(r.registry);
    const before = await dumpDb(r.registry);
    await expect(cli([file, ...urls()])).rejects.toThrow(/jobservice/);
    expect(await dumpDb(r.registry)).toEqual(before);
  });
});
