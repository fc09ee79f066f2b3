import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';

const BUCKET = 'registry';
const ROOT = 'harbor/docker/registry/v2';
const hex = (c: string) => c.repeat(64);
const dataKey = (h: string) => `${ROOT}/blobs/sha256/${h.slice(0, 2)}/${h}/data`;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function configFor(endpoint: string, maxAttempts?: number) {
  return { endpoint, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts };
}

async function listen(server: Server | HttpServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return `http://127.0.0.1:${port}`;
}

describe('Adapter: S3StorageChecker', () => {
  let aws: TestAws;
  let checker: S3StorageChecker;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'c', size: 1, digest: `sha256:${hex('c')}` },
    layers: [{ mediaType: 'l', size: 1, digest: `sha256:${hex('d')}` }],
  });

  beforeAll(async () => {
    aws = await startFauxqs();
    await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: dataKey(hex('a')), Body: 'x' }));
    await aws.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: dataKey(hex('e')), Body: manifest })
    );
    await aws.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: dataKey(hex('f')), Body: '\x1f\x8b tar.gz' })
    );
    checker = new S3StorageChecker({ client: aws.s3, bucket: BUCKET });
  });
  afterAll(async () => {
    await aws.stop();
  });

  describe('against fauxqs', () => {
    it('answers present for an object that exists', async () => {
      expect(await checker.head(dataKey(hex('a')))).toBe('present');
    });

    it('answers missing for an absent object in an existing bucket', async () => {
      expect(await checker.head(dataKey(hex('b')))).toBe('missing');
    });

    it('answers unknown, never missing, when the bucket itself is absent (misnamed bucket)', async () => {
      // Prepare: HEAD on an absent bucket is a bodiless 404, just like an absent object.
      const wrong = new S3StorageChecker({ client: aws.s3, bucket: 'no-such-bucket' });
      // Act
      const result = await wrong.headDetailed(dataKey(hex('a')));
      // Assess
      expect(result.presence).toBe('unknown');
      expect(result.reason).toMatch(/HeadBucket/);
      expect((await wrong.readManifest(dataKey(hex('e')))).presence).toBe('unknown');
    });

    it('builds its own client from clientConfig (endpoint, forcePathStyle)', async () => {
      const own = new S3StorageChecker({ clientConfig: configFor(aws.endpoint), bucket: BUCKET });
      try {
        expect(await own.head(dataKey(hex('a')))).toBe('present');
        expect(await own.head(dataKey(hex('b')))).toBe('missing');
      } finally {
        own.destroy();
      }
    });

    it('reads a manifest and lists what it references', async () => {
      expect(await checker.readManifest(dataKey(hex('e')))).toEqual({
        presence: 'present',
        references: [`sha256:${hex('c')}`, `sha256:${hex('d')}`],
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        kind: 'image',
      });
    });

    it('reports an unreadable manifest as present with an error and no references', async () => {
      const result = await checker.readManifest(dataKey(hex('f')));
      expect(result.presence).toBe('present');
      expect(result.references).toBeUndefined();
      expect(result.error).toMatch(/manifest body: not JSON/);
    });

    it('reports an absent manifest as missing', async () => {
      expect(await checker.readManifest(dataKey(hex('b')))).toEqual({ presence: 'missing' });
    });
  });

  describe('zero missing on doubt', () => {
    it('answers unknown when S3 accepts the connection and never answers (timeout)', async () => {
      // Prepare: a TCP server that accepts and stays silent.
      const sockets: Socket[] = [];
      const silent = createTcpServer((s) => sockets.push(s));
      const endpoint = await listen(silent);
      const hung = new S3StorageChecker({
        clientConfig: configFor(endpoint, 1),
        bucket: BUCKET,
        timeoutMs: 300,
      });
      try {
        // Act
        const head = await hung.headDetailed(dataKey(hex('a')));
        const read = await hung.readManifest(dataKey(hex('e')));
        // Assess
        expect(head.presence).toBe('unknown');
        expect(read.presence).toBe('unknown');
        expect(sockets.length).toBeGreaterThanOrEqual(1);
      } finally {
        hung.destroy();
        for (const s of sockets) s.destroy();
        await new Promise((r) => silent.close(r));
      }
    });

    it.each([
      [503, 'SlowDown'],
      [500, 'InternalError'],
      [403, 'AccessDenied'],
      [429, 'TooManyRequests'],
    ])('answers unknown on HTTP %i (%s), including after the SDK retries', async (status, code) => {
      // Prepare: every request, HeadBucket included, gets the error.
      let requests = 0;
      const server = createHttpServer((req, res) => {
        requests++;
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(
          req.method === 'HEAD'
            ? undefined
            : `<Error><Code>${code}</Code><Message>x</Message></Error>`
        );
      });
      const endpoint = await listen(server);
      const failing = new S3StorageChecker({ clientConfig: configFor(endpoint), bucket: BUCKET });
      try {
        // Act
        const head = await failing.headDetailed(dataKey(hex('a')));
        const read = await failing.readManifest(dataKey(hex('e')));
        // Assess
        expect(head.presence).toBe('unknown');
        expect(head.reason).toContain(`HTTP ${status}`);
        expect(read.presence).toBe('unknown');
        expect(requests).toBeGreaterThanOrEqual(2);
      } finally {
        failing.destroy();
        await new Promise((r) => server.close(r));
      }
    });

    it('answers unknown when nothing listens (connection refused)', async () => {
      const probe = createTcpServer();
      const endpoint = await listen(probe);
      await new Promise((r) => probe.close(r));
      const refused = new S3StorageChecker({
        clientConfig: configFor(endpoint, 1),
        bucket: BUCKET,
      });
      try {
        expect(await refused.head(dataKey(hex('a')))).toBe('unknown');
      } finally {
        refused.destroy();
      }
    });

    it('answers unknown when the object 404s but HeadBucket fails (bucket not verifiable)', async () => {
      // Prepare: objects 404 (NotFound), HeadBucket 503.
      const server = createHttpServer((req, res) => {
        const isBucket = new URL(req.url ?? '/', 'http://x').pathname.split('/').length <= 2;
        res.writeHead(isBucket ? 503 : 404);
        res.end();
      });
      const endpoint = await listen(server);
      const flaky = new S3StorageChecker({
        clientConfig: configFor(endpoint, 1),
        bucket: BUCKET,
      });
      try {
        expect(await flaky.head(dataKey(hex('b')))).toBe('unknown');
      } finally {
        flaky.destroy();
        await new Promise((r) => server.close(r));
      }
    });
  });
});
