/**
 * UploadActivity on S3: lists `<root>/docker/registry/v2/repositories/<repo>/_uploads/` and counts
 * the upload sessions with an object written since a given time (a PATCH rewrites the session's
 * `hashstates/...`, so a running upload keeps its LastModified fresh). Any error is `unknown`.
 */
import { ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { assertRepositoryName, registryPrefix } from '../domain/keys.ts';
import type { UploadActivity } from '../ports.ts';
import type { ClientOrConfig } from './client-or-config.ts';

export type S3UploadActivityOptions = {
  bucket: string;
  rootDirectory: string;
  /** @default 3000 */
  timeoutMs?: number;
  /** Pages of 1,000 keys read at most; more sessions than that count as active. @default 5 */
  maxPages?: number;
} & ClientOrConfig<S3Client, S3ClientConfig>;

export class S3UploadActivity implements UploadActivity {
  private readonly client: S3Client;
  constructor(private readonly opts: S3UploadActivityOptions) {
    this.client = opts.client ?? new S3Client(opts.clientConfig ?? {});
  }

  async recentUploads(repository: string, sinceMs: number): Promise<number | 'unknown'> {
    assertRepositoryName(repository);
    const prefix = `${registryPrefix(this.opts.rootDirectory)}repositories/${repository}/_uploads/`;
    const sessions = new Set<string>();
    let token: string | undefined;
    try {
      for (let page = 0; page < (this.opts.maxPages ?? 5); page++) {
        const out = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.opts.bucket,
            Prefix: prefix,
            ContinuationToken: token,
          }),
          { abortSignal: AbortSignal.timeout(this.opts.timeoutMs ?? 3000) }
        );
        for (const o of out.Contents ?? []) {
          if (o.Key && o.LastModified && o.LastModified.getTime() >= sinceMs) {
            sessions.add(o.Key.slice(prefix.length).split('/')[0] ?? '');
          }
        }
        if (!out.IsTruncated) return sessions.size;
        token = out.NextContinuationToken;
      }
      return Math.max(sessions.size, 1);
    } catch {
      return 'unknown';
    }
  }
}
