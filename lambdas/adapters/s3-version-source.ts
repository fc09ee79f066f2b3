/**
 * RestoreSource from S3 object versions of the same key (a bucket with versioning on):
 * ListObjectVersions, then the newest noncurrent version (never a delete marker, and no delete
 * marker is ever removed: that would need s3:DeleteObjectVersion). Its bytes are read once to
 * verify the sha256 (S3 cannot check one on copy; a version never changes), then commit copies it
 * server side with CopyObject and If-None-Match: *: no bytes are written through the function.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { RestoreSource, StagedRestore } from '../ports.ts';
import { assertBlobKey, ifAbsent } from './s3-blob-stager.ts';

export class S3VersionSource implements RestoreSource {
  readonly name = 's3-versions';

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string
  ) {}

  async stage(req: {
    digest: string;
    key: string;
  }): Promise<{ staged: StagedRestore } | { failed: string }> {
    assertBlobKey(req.key, req.digest);
    const versionId = await this.newestNoncurrent(req.key);
    if (!versionId) return { failed: `no noncurrent version of ${req.key}` };
    const got = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: req.key, VersionId: versionId })
    );
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of got.Body as Readable) {
      hash.update(chunk as Uint8Array);
      size += (chunk as Uint8Array).byteLength;
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== req.digest) {
      return {
        failed: `version ${versionId} hashes to ${actual}, not ${req.digest}; nothing written`,
      };
    }
    const source = `${this.bucket}/${encodeKey(req.key)}?versionId=${encodeURIComponent(versionId)}`;
    return {
      staged: {
        source: this.name,
        origin: `versionId ${versionId}`,
        verifiedDigest: actual,
        size,
        commit: () =>
          ifAbsent(() =>
            this.client.send(
              new CopyObjectCommand({
                Bucket: this.bucket,
                Key: req.key,
                CopySource: source,
                IfNoneMatch: '*',
              })
            )
          ),
        discard: async () => undefined,
      },
    };
  }

  /**
   * The newest version of exactly `key` that is not the current one: S3 lists a key's versions
   * newest first; delete markers come in their own list and are skipped.
   */
  private async newestNoncurrent(key: string): Promise<string | undefined> {
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const out = await this.client.send(
        new ListObjectVersionsCommand({
          Bucket: this.bucket,
          Prefix: key,
          KeyMarker,
          VersionIdMarker,
        })
      );
      const hit = (out.Versions ?? []).find((v) => v.Key === key && !v.IsLatest && v.VersionId);
      if (hit) return hit.VersionId;
      if (!out.IsTruncated) return undefined;
      KeyMarker = out.NextKeyMarker;
      VersionIdMarker = out.NextVersionIdMarker;
    }
    return undefined;
  }
}

/** CopySource is `bucket/key` URL-encoded (slashes kept). */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
