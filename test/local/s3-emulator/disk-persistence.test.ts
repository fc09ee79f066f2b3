import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError } from '../../../lambdas/local/s3-emulator/data-dir-lock.ts';
import { type S3Emulator, startS3Emulator } from '../../../lambdas/local/s3-emulator/emulator.ts';
import { s3ClientFor } from '../support/emulator.ts';

const Bucket = 'registry';
const MiB = 1024 * 1024;

interface Running {
  emu: S3Emulator;
  s3: S3Client;
  stop(): Promise<void>;
}

async function start(dataDir: string): Promise<Running> {
  const emu = await startS3Emulator({ port: 0, buckets: [Bucket], dataDir });
  const s3 = s3ClientFor(emu.endpoint);
  return {
    emu,
    s3,
    stop: async () => {
      s3.destroy();
      await emu.close();
    },
  };
}

async function text(s3: S3Client, Key: string, VersionId?: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }));
  return (await out.Body?.transformToString()) ?? '';
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('S3 emulator: --data-dir keeps the buckets on disk', () => {
  const dirs: string[] = [];
  const running: Running[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'pushguard-s3-data-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('finds every object again after a restart: put, overwrite, delete, copy, multipart', async () => {
    const dir = tempDir();
    const a = await start(dir);
    expect(a.emu.storage).toEqual({ dataDir: dir, objects: 0, otherVersions: 0 });
    await a.s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'a',
        Body: 'one',
        ContentType: 'text/x',
        Metadata: { owner: 'me' },
      })
    );
    await a.s3.send(new PutObjectCommand({ Bucket, Key: 'a', Body: 'two' }));
    await a.s3.send(new PutObjectCommand({ Bucket, Key: 'gone', Body: 'x' }));
    await a.s3.send(new DeleteObjectCommand({ Bucket, Key: 'gone' }));
    await a.s3.send(new CopyObjectCommand({ Bucket, Key: 'b/copy', CopySource: `${Bucket}/a` }));
    const { UploadId } = await a.s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'big' }));
    const bodies = [Buffer.alloc(5 * MiB, 1), Buffer.from('tail')];
    const parts = [];
    for (const [i, Body] of bodies.entries()) {
      const p = await a.s3.send(
        new UploadPartCommand({ Bucket, Key: 'big', UploadId, PartNumber: i + 1, Body })
      );
      parts.push({ PartNumber: i + 1, ETag: p.ETag });
    }
    const big = await a.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'big',
        UploadId,
        MultipartUpload: { Parts: parts },
      })
    );
    await a.stop();

    const b = await start(dir);
    running.push(b);
    expect(b.emu.storage).toEqual({ dataDir: dir, objects: 3, otherVersions: 0 });
    expect(await text(b.s3, 'a')).toBe('two');
    expect(await text(b.s3, 'b/copy')).toBe('two');
    await expect(text(b.s3, 'gone')).rejects.toMatchObject({ name: 'NoSuchKey' });
    const head = await b.s3.send(new HeadObjectCommand({ Bucket, Key: 'big' }));
    expect(head).toMatchObject({ ETag: big.ETag, ContentLength: 5 * MiB + 4 });
    const first = await b.s3.send(new HeadObjectCommand({ Bucket, Key: 'a' }));
    expect(first.ContentType).toBe('application/octet-stream');
    // One data file per stored object: the overwritten and deleted ones left nothing behind.
    expect(filesUnder(dir).filter((f) => f.endsWith('.data'))).toHaveLength(3);
  });

  it('keeps versions, delete markers and the versioning status', async () => {
    const dir = tempDir();
    const a = await start(dir);
    await a.s3.send(
      new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } })
    );
    const v1 = (await a.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'v1' }))).VersionId;
    const v2 = (await a.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'v2' }))).VersionId;
    const marker = (await a.s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }))).VersionId;
    const before = await a.s3.send(new ListObjectVersionsCommand({ Bucket }));
    await a.stop();

    const b = await start(dir);
    running.push(b);
    expect(b.emu.storage).toMatchObject({ objects: 0, otherVersions: 3 });
    const after = await b.s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect(after.Versions).toEqual(before.Versions);
    expect(after.DeleteMarkers).toEqual(before.DeleteMarkers);
    expect(after.DeleteMarkers?.[0]?.VersionId).toBe(marker);
    expect(await text(b.s3, 'k', v1)).toBe('v1');
    // Still versioned: the next write keeps v2.
    await b.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'v3' }));
    expect(await text(b.s3, 'k', v2)).toBe('v2');
    expect(await text(b.s3, 'k')).toBe('v3');
  });

  it('ignores what an interrupted write left: temporary files and data no metadata names', async () => {
    const dir = tempDir();
    const a = await start(dir);
    await a.s3.send(new PutObjectCommand({ Bucket, Key: 'kept', Body: 'whole' }));
    await a.stop();
    const meta = filesUnder(dir).find((f) => f.endsWith('.json')) ?? '';
    const shard = join(dir, meta, '..');
    writeFileSync(join(shard, 'half.json.tmp'), '{"key":"kept","vers');
    writeFileSync(join(shard, `${'0'.repeat(64)}.99.data`), 'orphan');
    writeFileSync(join(shard, `${'0'.repeat(64)}.100.data.tmp`), 'partial');

    const b = await start(dir);
    running.push(b);
    expect(b.emu.storage.objects).toBe(1);
    expect(await text(b.s3, 'kept')).toBe('whole');
    expect(readdirSync(shard).sort()).toEqual(
      readdirSync(shard)
        .filter((f) => !f.includes('.tmp') && !f.startsWith('0000'))
        .sort()
    );
    expect(readdirSync(shard)).toHaveLength(2);
    // Every data file holds the bytes its metadata's ETag names.
    const saved = JSON.parse(readFileSync(join(dir, meta), 'utf8'));
    const bytes = readFileSync(join(shard, saved.object.data));
    expect(`"${createHash('md5').update(bytes).digest('hex')}"`).toBe(saved.object.etag);
  });

  it('refuses a data dir another running emulator holds, and takes over a dead one', async () => {
    const dir = tempDir();
    const a = await start(dir);
    running.push(a);
    await expect(start(dir)).rejects.toBeInstanceOf(DataDirInUseError);
    await a.stop();
    running.pop();
    // A lock left by a process that is gone (kill -9): pid 2^22 + 1 is above Linux's pid_max.
    writeFileSync(join(dir, '.lock'), String(4_194_305));
    const b = await start(dir);
    running.push(b);
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(String(process.pid));
  });

  it('a start that fails (port taken) leaves the directory unlocked', async () => {
    const a = await start(tempDir());
    running.push(a);
    const dir = tempDir();
    await expect(
      startS3Emulator({ port: a.emu.port, buckets: [Bucket], dataDir: dir })
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const b = await start(dir);
    running.push(b);
    expect(b.emu.storage.dataDir).toBe(dir);
  });
});
