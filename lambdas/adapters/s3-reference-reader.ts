/**
 * ReferenceReader on S3: reads link objects and lists a repository's revision links, at action
 * time. Only a 404 is `missing`; timeouts, throttling, 403 and 5xx are `unknown`.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { registryPrefix } from '../domain/keys.ts';
import type { ReferenceReader } from '../ports.ts';

export class S3ReferenceReader implements ReferenceReader {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly root: string,
    private readonly timeoutMs = 3000
  ) {}

  async readLink(key: string): Promise<string | 'missing' | 'unknown'> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = (await out.Body?.transformToString()) ?? '';
      // A link is `sha256:<64 hex>`; anything longer is not one.
      return text.length <= 200 ? text : 'unknown';
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      return e.$metadata?.httpStatusCode === 404 && e.name === 'NoSuchKey' ? 'missing' : 'unknown';
    }
  }

  async listRevisions(repository: string, limit: number): Promise<string[] | 'unknown'> {
    const prefix = `${registryPrefix(this.root)}repositories/${repository}/_manifests/revisions/sha256/`;
    const out: string[] = [];
    let ContinuationToken: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: '/',
            ContinuationToken,
            MaxKeys: Math.min(1000, limit),
          }),
          { abortSignal: AbortSignal.timeout(this.timeoutMs) }
        );
        for (const p of page.CommonPrefixes ?? []) {
          const hex = p.Prefix?.slice(prefix.length, -1) ?? '';
          if (/^[a-f0-9]{64}$/.test(hex)) out.push(`sha256:${hex}`);
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken && out.length < limit);
    } catch {
      return 'unknown';
    }
    return out.slice(0, limit);
  }
}
