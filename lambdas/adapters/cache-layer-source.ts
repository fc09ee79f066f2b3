/**
 * RestoreSource from Harbor core's cache layer (`cache:manifest:digest:<d>`, msgpack-encoded raw
 * manifest bytes, SET with EX by core after a successful GET): manifests only. Read-only on that
 * DB; the bytes go through the S3BlobStager, which writes nothing unless they hash to the digest.
 */
import type { Redis } from 'ioredis';
import type { RestoreSource, StagedRestore } from '../ports.ts';
import type { S3BlobStager } from './s3-blob-stager.ts';

export class CacheLayerSource implements RestoreSource {
  readonly name = 'cache-layer';

  constructor(
    private readonly redis: Redis,
    private readonly stager: S3BlobStager
  ) {}

  async stage(req: {
    digest: string;
    key: string;
    manifest: boolean;
  }): Promise<{ staged: StagedRestore } | { failed: string }> {
    if (!req.manifest) return { failed: 'the cache layer holds manifests only' };
    const cacheKey = `cache:manifest:digest:${req.digest}`;
    const raw = await this.redis.getBuffer(cacheKey);
    if (!raw) return { failed: `${cacheKey} is not cached` };
    const bytes = msgpackBytes(raw);
    if (!bytes) return { failed: `${cacheKey} is not a msgpack bin or str value` };
    return this.stager.stage({
      key: req.key,
      digest: req.digest,
      body: [bytes],
      source: this.name,
      origin: `redis ${cacheKey}`,
    });
  }
}

/** The payload of one msgpack bin/str value (Harbor's codec writes []byte as bin). */
export function msgpackBytes(buf: Buffer): Buffer | undefined {
  const t = buf[0];
  if (t === undefined) return undefined;
  let start: number;
  let len: number;
  if (t >= 0xa0 && t <= 0xbf) [start, len] = [1, t & 0x1f];
  else if (t === 0xc4 || t === 0xd9) [start, len] = [2, buf[1] ?? -1];
  else if ((t === 0xc5 || t === 0xda) && buf.length >= 3) [start, len] = [3, buf.readUInt16BE(1)];
  else if ((t === 0xc6 || t === 0xdb) && buf.length >= 5) [start, len] = [5, buf.readUInt32BE(1)];
  else return undefined;
  if (len < 0 || start + len !== buf.length) return undefined;
  return buf.subarray(start, start + len);
}
