/**
 * A synthetic but realistic S3 notification trace: pushes with the 12-event-per-blob shape
 * recorded from a real registry (registry-on-s3-emulator.md §2a) followed by the manifest's 4 Puts,
 * spread over many repositories, one record per message body as SQS delivers them.
 */
import { createHash } from 'node:crypto';

function hex(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

function body(key: string, eventName: string, seq: number, time: number, size?: number): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date(time).toISOString(),
        eventName,
        userIdentity: { principalId: 'AWS:AIDABENCH' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: {
          'x-amz-request-id': seq.toString(16).toUpperCase(),
          'x-amz-id-2': 'bench',
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'registry-all',
          bucket: {
            name: 'harbor',
            ownerIdentity: { principalId: 'A3BENCH' },
            arn: 'arn:aws:s3:::harbor',
          },
          object: {
            key,
            sequencer: seq.toString(16).toUpperCase().padStart(16, '0'),
            ...(size === undefined ? {} : { size, eTag: hex(`${key}${seq}`).slice(0, 32) }),
          },
        },
      },
    ],
  });
}

/** `records` message bodies (JSON strings), deterministic for a given seed. */
export function syntheticTrace(records: number, seed = 'bench', repositories = 500): string[] {
  const out: string[] = [];
  const R = 'harbor/docker/registry/v2';
  let seq = 0;
  let time = Date.parse('2026-11-25T10:00:00Z');
  let push = 0;
  const emit = (key: string, name: string, size?: number) => {
    seq += 1;
    time += 3;
    out.push(body(key, name, seq, time, size));
  };
  const put = (key: string, name = 'ObjectCreated:Put', size = 71) => emit(key, name, size);
  const del = (key: string) => emit(key, 'ObjectRemoved:Delete');
  while (out.length < records) {
    push += 1;
    const repo = `project${push % 37}/service-${push % repositories}`;
    const blobs = [0, 1, 2, 3].map((i) => hex(`${seed}-${push}-${i}`));
    for (const b of blobs) {
      const u = `${hex(`${seed}-u-${push}-${b}`).slice(0, 8)}-0000-4000-8000-${b.slice(0, 12)}`;
      const up = `${R}/repositories/${repo}/_uploads/${u}`;
      put(`${up}/startedat`, undefined, 20);
      put(`${up}/hashstates/sha256/0`, undefined, 108);
      put(`${up}/hashstates/sha256/1024`, undefined, 108);
      put(`${up}/hashstates/sha256/1024`, undefined, 108);
      put(`${up}/data`, 'ObjectCreated:CompleteMultipartUpload', 1024);
      put(`${up}/hashstates/sha256/0`, undefined, 108);
      put(`${R}/blobs/sha256/${b.slice(0, 2)}/${b}/data`, 'ObjectCreated:Copy', 1024);
      del(`${up}/data`);
      put(`${R}/repositories/${repo}/_layers/sha256/${b}/link`);
      del(`${up}/hashstates/sha256/0`);
      del(`${up}/hashstates/sha256/1024`);
      del(`${up}/startedat`);
    }
    const m = hex(`${seed}-manifest-${push}`);
    put(`${R}/blobs/sha256/${m.slice(0, 2)}/${m}/data`, undefined, 755);
    put(`${R}/repositories/${repo}/_manifests/revisions/sha256/${m}/link`);
    put(`${R}/repositories/${repo}/_manifests/tags/v${push}/index/sha256/${m}/link`);
    put(`${R}/repositories/${repo}/_manifests/tags/v${push}/current/link`);
  }
  return out.slice(0, records);
}
