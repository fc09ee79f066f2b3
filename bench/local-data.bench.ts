/**
 * `pushguard local --data-dir` (issue 13 item 4): what keeping the bucket on disk costs.
 *  1. PutObject through the emulator's HTTP endpoint, one client, sequential, 4 KiB and 1 MiB
 *     bodies: on disk (write-through, temporary file + rename, metadata likewise) against the
 *     same emulator in memory (`--ephemeral`), same run;
 *  2. a restart: the emulator finding N objects again, against a bare loop that reads the same
 *     files with readFileSync.
 * Runs alone with `npx tsx bench/run.ts local-data`. Prints figures; never fails on speed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3Emulator } from '../lambdas/local/s3-emulator/emulator.ts';
import type { Figure } from './figures.ts';

const Bucket = 'registry';

async function puts(dataDir: string | undefined, n: number, size: number): Promise<number> {
  const emu = await startS3Emulator({ port: 0, buckets: [Bucket], dataDir });
  const s3 = new S3Client({
    endpoint: emu.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const Body = Buffer.alloc(size, 7);
  try {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      await s3.send(new PutObjectCommand({ Bucket, Key: `bench/${size}/${i}`, Body }));
    }
    return (n * 1000) / (performance.now() - start);
  } finally {
    s3.destroy();
    await emu.close();
  }
}

function readAll(dir: string): number {
  let bytes = 0;
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (file.endsWith('.data') || file.endsWith('.json'))
      bytes += readFileSync(join(dir, file)).length;
  }
  return bytes;
}

export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'pushguard-bench-s3-'));
  try {
    for (const [n, size, label] of [
      [500, 4096, '4 KiB'],
      [100, 1024 * 1024, '1 MiB'],
    ] as const) {
      const memory = await puts(undefined, n, size);
      const disk = await puts(dir, n, size);
      figures.push({
        name: `local S3 PutObject ${label}, --data-dir`,
        value: disk,
        unit: 'puts/s',
        baseline: { name: 'same emulator in memory', value: memory },
      });
    }
    const t0 = performance.now();
    const emu = await startS3Emulator({ port: 0, buckets: [Bucket], dataDir: dir });
    const load = performance.now() - t0;
    const found = emu.storage.objects;
    await emu.close();
    const t1 = performance.now();
    readAll(dir);
    const bare = performance.now() - t1;
    figures.push({
      name: `local S3 restart finding ${found} objects`,
      value: load,
      unit: 'ms',
      baseline: { name: 'readFileSync of the same files', value: bare },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
