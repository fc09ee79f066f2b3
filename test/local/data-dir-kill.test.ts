/**
 * `pushguard local --data-dir` killed with SIGKILL in the middle of a stream of writes: at the
 * restart every write it acknowledged is there with the ETag it answered, and every object it
 * finds is whole (its bytes hash to its ETag), whatever the kill interrupted.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { seededBytes } from '../support/oci-image.ts';
import { type PushguardLocal, startPushguardLocal } from '../support/pushguard-local.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import { freePort } from '../support/redis-server.ts';
import { s3ClientFor } from './support/emulator.ts';

const Bucket = 'registry';
const md5 = (b: Uint8Array) => `"${createHash('md5').update(b).digest('hex')}"`;

describe('pushguard local --data-dir: kill -9 during writes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pushguard-kill-'));
  let pg: PushguardLocal | undefined;
  afterAll(async () => {
    await pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write and never a half-written object', async () => {
    const [registryDb, stateDb] = (await allocateDbs(2)) as [number, number];
    const start = async () =>
      startPushguardLocal({
        redisUrl: redisUrl(),
        registryDb,
        s3Port,
        dataDir,
        extraArgs: ['--state-db', String(stateDb)],
      });
    const s3Port = await freePort();
    pg = await start();
    const s3 = s3ClientFor(pg.ready.s3Endpoint);
    const acked = new Map<string, string>();
    let n = 0;
    // Four writers, objects of up to 2 MiB, until the process is killed under them.
    const writer = async (w: number) => {
      for (;;) {
        const Key = `w${w}/object-${n++}`;
        const Body = seededBytes(Key, 1 + ((n * 7919) % (2 * 1024 * 1024)));
        try {
          const out = await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
          acked.set(Key, out.ETag ?? '');
        } catch {
          return;
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acked.size < 40) await new Promise((r) => setImmediate(r));
    const gone = new Promise((r) => pg!.process.once('exit', r));
    pg.process.kill('SIGKILL');
    await gone;
    await Promise.all(writers);
    s3.destroy();

    pg = await start();
    const again = s3ClientFor(pg.ready.s3Endpoint);
    const listed = await again.send(new ListObjectsV2Command({ Bucket }));
    const found = new Map((listed.Contents ?? []).map((o) => [o.Key ?? '', o.ETag ?? '']));
    expect(pg.ready.objectsFound).toBe(found.size);
    for (const [key, etag] of acked) expect(found.get(key), key).toBe(etag);
    for (const key of found.keys()) {
      const obj = await again.send(new GetObjectCommand({ Bucket, Key: key }));
      const bytes = await obj.Body!.transformToByteArray();
      expect(md5(bytes), key).toBe(obj.ETag);
      expect(Buffer.from(bytes).equals(seededBytes(key, bytes.length)), key).toBe(true);
    }
    again.destroy();
  }, 120_000);
});
