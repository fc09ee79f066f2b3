import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { startFauxqs } from './fauxqs.ts';
import { allocateDbs, redisClient } from './redis.ts';

describe('test rig', () => {
  it('reaches the real redis-server and hands out distinct DBs', async () => {
    const [a, b] = await allocateDbs(2);
    expect(a).not.toBe(b);
    const client = await redisClient(a!);
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    client.disconnect();
  });
  it('runs fauxqs S3 on 127.0.0.1', async () => {
    const aws = await startFauxqs();
    try {
      expect(aws.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await aws.s3.send(new CreateBucketCommand({ Bucket: 'b' }));
      await aws.s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'x/y', Body: 'hi' }));
      const head = await aws.s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'x/y' }));
      expect(head.ContentLength).toBe(2);
    } finally {
      await aws.stop();
    }
  });
});
