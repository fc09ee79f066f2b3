/**
 * Restore sources on real parts: the local S3 emulator (fauxqs + additions, with conditional
 * writes), redis-server for Harbor's cache layer, and a local HTTP stand-in for a peer registry
 * that demands a Bearer token the way the distribution token spec documents it (401 with
 * `WWW-Authenticate: Bearer realm,service,scope`, token bought with Basic credentials).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { encode } from '@msgpack/msgpack';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheLayerSource, msgpackBytes } from '../../lambdas/adapters/cache-layer-source.ts';
import { RedisRemovalRate } from '../../lambdas/adapters/redis-removal-rate.ts';
import {
  MANIFEST_ACCEPT,
  RegistryPeerSource,
} from '../../lambdas/adapters/registry-peer-source.ts';
import { S3BlobStager } from '../../lambdas/adapters/s3-blob-stager.ts';
import { S3ReferenceReader } from '../../lambdas/adapters/s3-reference-reader.ts';
import { SafetyRefusalError } from '../../lambdas/domain/errors.ts';
import { blobDataKey, revisionLinkKey } from '../../lambdas/domain/keys.ts';
import { startTestEmulator, type TestEmulator } from '../local/support/emulator.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import { connectFailFast } from '../support/seed-registry-cache.ts';

const ROOT = 'harbor';
const MiB = 1024 * 1024;
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const bytes = (n: number, seed: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

let t: TestEmulator;
let stager: S3BlobStager;

async function exists(key: string): Promise<boolean> {
  try {
    await t.s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function read(key: string): Promise<Buffer> {
  const out = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function* chunks(b: Buffer, size = 1024 * 1024): AsyncIterable<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

beforeAll(async () => {
  t = await startTestEmulator({ bucket: 'registry' });
  stager = new S3BlobStager(t.s3, t.bucket, 5 * MiB);
});
afterAll(async () => t?.stop());

describe('S3BlobStager: verify while staging, write with If-None-Match: *', () => {
  it('a small blob is written only on commit, byte for byte', async () => {
    const b = bytes(70_000, 1);
    const d = digestOf(b);
    const key = blobDataKey(ROOT, d);
    const r = await stager.stage({
      key,
      digest: d,
      body: chunks(b, 10_000),
      source: 't',
      origin: 'o',
    });
    if (!('staged' in r)) throw new Error(JSON.stringify(r));
    expect(r.staged).toMatchObject({ verifiedDigest: d, size: b.length });
    expect(await exists(key)).toBe(false);
    expect(await r.staged.commit()).toBe('written');
    expect((await read(key)).equals(b)).toBe(true);
  });

  it('wrong bytes write nothing and say what they hash to', async () => {
    const b = bytes(9_000, 2);
    const claimed = digestOf(bytes(9_000, 3));
    const r = await stager.stage({
      key: blobDataKey(ROOT, claimed),
      digest: claimed,
      body: chunks(b),
      source: 't',
      origin: 'peer-x',
    });
    expect(r).toEqual({
      failed: `peer-x served 9000 bytes hashing to ${digestOf(b)}, not ${claimed}; nothing written`,
    });
    expect(await exists(blobDataKey(ROOT, claimed))).toBe(false);
  });

  it('a 12 MiB blob goes through a multipart upload; a mismatch aborts it', async () => {
    const b = bytes(12 * MiB + 123, 4);
    const d = digestOf(b);
    const key = blobDataKey(ROOT, d);
    const ok = await stager.stage({ key, digest: d, body: chunks(b), source: 't', origin: 'o' });
    if (!('staged' in ok)) throw new Error(JSON.stringify(ok));
    const open = await t.s3.send(
      new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: key })
    );
    expect((open.Uploads ?? []).length).toBe(1);
    expect(await exists(key)).toBe(false);
    expect(await ok.staged.commit()).toBe('written');
    expect((await read(key)).equals(b)).toBe(true);

    const other = digestOf(bytes(12 * MiB + 123, 5));
    const otherKey = blobDataKey(ROOT, other);
    const bad = await stager.stage({
      key: otherKey,
      digest: other,
      body: chunks(b),
      source: 't',
      origin: 'o',
    });
    expect('failed' in bad).toBe(true);
    const left = await t.s3.send(
      new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: otherKey })
    );
    expect(left.Uploads ?? []).toEqual([]);
    expect(await exists(otherKey)).toBe(false);
  });

  it('an object that reappeared before the commit is not overwritten (small and multipart)', async () => {
    for (const size of [5_000, 11 * MiB]) {
      const b = bytes(size, 6 + size);
      const d = digestOf(b);
      const key = blobDataKey(ROOT, d);
      const r = await stager.stage({ key, digest: d, body: chunks(b), source: 't', origin: 'o' });
      if (!('staged' in r)) throw new Error('not staged');
      await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: 'reappeared' }));
      expect(await r.staged.commit()).toBe('exists');
      expect((await read(key)).toString()).toBe('reappeared');
    }
  });

  it('refuses any key but the data key of the digest', async () => {
    const d = digestOf(Buffer.from('x'));
    for (const key of [
      `${ROOT}/docker/registry/v2/repositories/a/_layers/sha256/${d.slice(7)}/link`,
      blobDataKey(ROOT, digestOf(Buffer.from('y'))),
    ]) {
      await expect(
        stager.stage({ key, digest: d, body: chunks(Buffer.from('x')), source: 't', origin: 'o' })
      ).rejects.toBeInstanceOf(SafetyRefusalError);
    }
  });
});

describe('RegistryPeerSource against a token-auth registry stand-in', () => {
  let server: Server;
  let base: string;
  const seen: { path: string; auth?: string; accept?: string }[] = [];
  const manifest = Buffer.from(
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
  );
  const layer = bytes(300_000, 9);
  const basic = `Basic ${Buffer.from('robot$peer:s3cret').toString('base64')}`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({
        path: url.pathname,
        auth: req.headers.authorization,
        accept: req.headers.accept,
      });
      if (url.pathname === '/service/token') {
        const ok =
          req.headers.authorization === basic &&
          url.searchParams.get('service') === 'harbor-registry' &&
          url.searchParams.get('scope') === 'repository:team/app:pull';
        res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
        res.end(ok ? JSON.stringify({ token: 'tok-123' }) : '{}');
        return;
      }
      if (req.headers.authorization !== 'Bearer tok-123') {
        res.writeHead(401, {
          'WWW-Authenticate': `Bearer realm="${base}/service/token",service="harbor-registry",scope="repository:team/app:pull"`,
        });
        res.end();
        return;
      }
      const body =
        url.pathname === `/v2/team/app/manifests/${digestOf(manifest)}`
          ? manifest
          : url.pathname === `/v2/team/app/blobs/${digestOf(layer)}`
            ? layer
            : undefined;
      res.writeHead(body ? 200 : 404);
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const source = () =>
    new RegistryPeerSource({ url: base, stager, credentials: async () => 'robot$peer:s3cret' });

  it('buys a Bearer token with Basic credentials and stages a manifest asked with every manifest type', async () => {
    const d = digestOf(manifest);
    const r = await source().stage({
      digest: d,
      key: blobDataKey(ROOT, d),
      repository: 'team/app',
      manifest: true,
    });
    if (!('staged' in r)) throw new Error(JSON.stringify(r));
    expect(r.staged.origin).toBe(`${base}/v2/team/app/manifests/${d}`);
    expect(await r.staged.commit()).toBe('written');
    expect((await read(blobDataKey(ROOT, d))).equals(manifest)).toBe(true);
    const last = seen.filter((s) => s.path.endsWith(d));
    expect(last.map((s) => s.auth)).toEqual([basic, 'Bearer tok-123']);
    expect(last[1]!.accept).toBe(MANIFEST_ACCEPT);
  });

  it('stages a layer from /blobs/; a digest the peer lacks fails with its status', async () => {
    const d = digestOf(layer);
    const r = await source().stage({
      digest: d,
      key: blobDataKey(ROOT, d),
      repository: 'team/app',
      manifest: false,
    });
    expect('staged' in r && r.staged.size).toBe(layer.length);
    const missing = digestOf(Buffer.from('absent'));
    const m = await source().stage({
      digest: missing,
      key: blobDataKey(ROOT, missing),
      repository: 'team/app',
      manifest: false,
    });
    expect(m).toEqual({ failed: `${base}/v2/team/app/blobs/${missing} answered HTTP 404` });
  });

  it('an unreachable peer is a failure, not a throw', async () => {
    const d = digestOf(layer);
    const dead = new RegistryPeerSource({ url: 'http://127.0.0.1:1', stager });
    const r = await dead.stage({
      digest: d,
      key: blobDataKey(ROOT, d),
      repository: 'team/app',
      manifest: false,
    });
    expect('failed' in r && r.failed).toMatch(
      /^http:\/\/127\.0\.0\.1:1\/v2\/team\/app\/blobs\/sha256:/
    );
  });
});

describe('CacheLayerSource, S3ReferenceReader and RedisRemovalRate', () => {
  let core: Redis;
  let state: Redis;
  beforeAll(async () => {
    const [coreDb, stateDb] = await allocateDbs(2);
    core = await connectFailFast(redisUrl(), coreDb!);
    state = await connectFailFast(redisUrl(), stateDb!);
  });
  afterAll(() => {
    core?.disconnect();
    state?.disconnect();
  });

  it("restores a manifest from Harbor core's msgpack cache entry; layers are not there", async () => {
    const manifest = Buffer.from('{"schemaVersion":2,"layers":[]}');
    const d = digestOf(manifest);
    await core.set(`cache:manifest:digest:${d}`, Buffer.from(encode(manifest)));
    const src = new CacheLayerSource(core, stager);
    const r = await src.stage({ digest: d, key: blobDataKey(ROOT, d), manifest: true });
    if (!('staged' in r)) throw new Error(JSON.stringify(r));
    expect(r.staged.origin).toBe(`redis cache:manifest:digest:${d}`);
    expect(await r.staged.commit()).toBe('written');
    expect((await read(blobDataKey(ROOT, d))).equals(manifest)).toBe(true);
    expect(await src.stage({ digest: d, key: blobDataKey(ROOT, d), manifest: false })).toEqual({
      failed: 'the cache layer holds manifests only',
    });
    expect(msgpackBytes(Buffer.from([0x93, 1, 2, 3]))).toBeUndefined();
    expect(msgpackBytes(Buffer.from(encode('abc')))?.toString()).toBe('abc');
  });

  it('reads links and lists revisions of a nested repository; a missing link is missing', async () => {
    const repo = 'team/sub/app';
    const ds = [digestOf(Buffer.from('m1')), digestOf(Buffer.from('m2'))];
    for (const d of ds) {
      await t.s3.send(
        new PutObjectCommand({ Bucket: t.bucket, Key: revisionLinkKey(ROOT, repo, d), Body: d })
      );
    }
    const reader = new S3ReferenceReader(t.s3, t.bucket, ROOT);
    expect(await reader.readLink(revisionLinkKey(ROOT, repo, ds[0]!))).toBe(ds[0]);
    expect(await reader.readLink(revisionLinkKey(ROOT, repo, digestOf(Buffer.from('no'))))).toBe(
      'missing'
    );
    expect((await reader.listRevisions(repo, 10)) as string[]).toEqual([...ds].sort());
    expect(await reader.listRevisions('team/sub', 10)).toEqual([]);
  });

  it('counts removals of the last minute across instances', async () => {
    const a = new RedisRemovalRate(state, 'pg-test:');
    const b = new RedisRemovalRate(state, 'pg-test:');
    const t0 = 1_800_000_000_000;
    expect(await a.record(t0)).toBe(1);
    expect(await b.record(t0 + 15_000)).toBe(2);
    expect(await a.record(t0 + 45_000)).toBe(3);
    expect(await b.record(t0 + 75_000)).toBe(2); // the first one is over a minute old
  });
});
