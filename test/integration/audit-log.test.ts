/**
 * Write-ahead audit log (R9): FileAuditLog on a temp directory, S3AuditLog on fauxqs. Records
 * round-trip, are never overwritten, and tampering is evident on read.
 */
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAuditLog, readAuditRecordFile } from '../../lambdas/adapters/file-audit-log.ts';
import { S3AuditLog } from '../../lambdas/adapters/s3-audit-log.ts';
import {
  canonicalJson,
  decodeAuditRecord,
  encodeAuditRecord,
  newAuditId,
} from '../../lambdas/app/audit-record.ts';
import { AuditLogError } from '../../lambdas/domain/errors.ts';
import type { RemediationRecord } from '../../lambdas/domain/remediation.ts';
import { type ConditionalS3, startConditionalS3 } from '../artifact/support/conditional-s3.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';

const D = 'sha256:8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';

function record(over: Partial<RemediationRecord> = {}): RemediationRecord {
  return {
    id: newAuditId(Date.UTC(2026, 10, 25, 19, 55, 36), 'manifest-data-missing'),
    at: '2026-11-25T19:55:36.000Z',
    mode: 'enforce',
    actor: 'pushguard-test',
    version: '0.1.0',
    reason: 'manifest-data-missing library/stale',
    finding: {
      id: `manifest-data-missing|library/stale|${D}`,
      kind: 'manifest-data-missing',
      repository: 'library/stale',
      digest: D,
      firstSeen: '2026-11-25T19:55:30.000Z',
      lastSeen: '2026-11-25T19:55:36.000Z',
      evidence: ['blobs::… cached, data 404'],
      verified: true,
      action: 'clear-cache',
    },
    storageEvidence: [
      { key: 'harbor/docker/registry/v2/blobs/…/data', checks: ['missing', 'missing'] },
    ],
    snapshots: [
      {
        store: 'registry',
        key: `blobs::${D}`,
        type: 'hash',
        hash: { digest: D, size: '590', mediatype: 'application/octet-stream' },
        pttl: -1,
      },
      {
        store: 'registry',
        key: `blobs::${D}`,
        type: 'hash',
        encoding: 'base64',
        hash: { '/w==': 'AAE=' },
        pttl: 5000,
      },
    ],
    decision: 'delete',
    ...over,
  };
}

describe('audit record encoding', () => {
  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"e":0,"f":1}]},"b":1}'
    );
  });
  it('R9 tamper-evident: any change of the record fails verification', () => {
    const text = encodeAuditRecord(record());
    expect(decodeAuditRecord(text).snapshots).toHaveLength(2);
    const edited = text.replace('"size": "590"', '"size": "591"');
    expect(edited).not.toBe(text);
    expect(() => decodeAuditRecord(edited)).toThrow(/was modified/);
    const reordered = JSON.stringify(JSON.parse(text)); // formatting alone is not tampering
    expect(decodeAuditRecord(reordered)).toEqual(decodeAuditRecord(text));
  });
  it('refuses ids that are not plain file names', () => {
    for (const id of ['../etc/passwd', 'a/b', '', '.hidden', 'x'.repeat(201)]) {
      expect(() => encodeAuditRecord(record({ id }))).toThrow(AuditLogError);
    }
  });
});

describe('FileAuditLog', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pushguard-audit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one read-only JSON file per record and reads it back verified', async () => {
    const log = new FileAuditLog(join(dir, 'records'));
    const r = record();
    expect(await log.write(r)).toBe(r.id);
    const st = await stat(log.pathOf(r.id));
    expect(st.mode & 0o777).toBe(0o444);
    expect(await log.read(r.id)).toEqual(r);
    expect(await readAuditRecordFile(log.pathOf(r.id))).toEqual(r);
  });

  it('R9 audit sink refuses to overwrite an existing record', async () => {
    const log = new FileAuditLog(dir);
    const r = record();
    await log.write(r);
    const before = await readFile(log.pathOf(r.id), 'utf8');
    await chmod(log.pathOf(r.id), 0o644); // even when the file is writable
    const err = await log.write({ ...r, reason: 'other' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLogError);
    expect((err as AuditLogError).code).toBe('exists');
    expect(await readFile(log.pathOf(r.id), 'utf8')).toBe(before);
  });

  it('R9 tamper-evident: an edited file is refused on read', async () => {
    const log = new FileAuditLog(dir);
    const r = record();
    await log.write(r);
    const path = log.pathOf(r.id);
    await chmod(path, 0o644);
    await writeFile(path, (await readFile(path, 'utf8')).replace('"pttl": 5000', '"pttl": 1'));
    await expect(log.read(r.id)).rejects.toMatchObject({ code: 'tampered' });
  });

  it('R9 failing sink: a directory that cannot be created fails the write', async () => {
    const blocker = join(dir, 'not-a-directory');
    await writeFile(blocker, 'x');
    const log = new FileAuditLog(join(blocker, 'records'));
    await expect(log.write(record())).rejects.toMatchObject({ code: 'write-failed' });
  });
});

describe('S3AuditLog on fauxqs (behind a stand-in that honours If-None-Match)', () => {
  let aws: TestAws;
  let front: ConditionalS3;
  let conditional: S3Client;
  beforeAll(async () => {
    aws = await startFauxqs();
    front = await startConditionalS3(aws.endpoint);
    conditional = new S3Client({
      endpoint: front.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      forcePathStyle: true,
    });
    await aws.s3.send(new CreateBucketCommand({ Bucket: 'audit' }));
  });
  afterAll(async () => {
    conditional.destroy();
    await front.stop();
    await aws.stop();
  });

  it('writes <prefix><id>.json and reads it back verified', async () => {
    const log = new S3AuditLog({ client: aws.s3, bucket: 'audit', prefix: 'records/' });
    const r = record();
    await log.write(r);
    const obj = await aws.s3.send(
      new GetObjectCommand({ Bucket: 'audit', Key: `records/${r.id}.json` })
    );
    expect(obj.ContentType).toBe('application/json');
    expect(await log.read(r.id)).toEqual(r);
  });

  it('R9 audit sink never overwrites: a second write of an id is "already written" (412)', async () => {
    const log = new S3AuditLog({ client: conditional, bucket: 'audit' });
    const r = record();
    expect(await log.write(r)).toBe(r.id);
    expect(await log.write({ ...r, reason: 'overwrite attempt' })).toBe(r.id);
    expect(front.refused).toEqual([`/audit/${log.keyOf(r.id)}`]);
    expect((await log.read(r.id)).reason).toBe(r.reason);
  });

  it('R9 tamper-evident: an object rewritten behind its back is refused on read', async () => {
    const log = new S3AuditLog({ client: aws.s3, bucket: 'audit' });
    const r = record();
    await log.write(r);
    const key = log.keyOf(r.id);
    const text = encodeAuditRecord(r).replace('"decision": "delete"', '"decision": "skip"');
    await aws.s3.send(new PutObjectCommand({ Bucket: 'audit', Key: key, Body: text }));
    await expect(log.read(r.id)).rejects.toMatchObject({ code: 'tampered' });
  });

  it('R9 failing sink: a missing bucket fails the write', async () => {
    const log = new S3AuditLog({ client: aws.s3, bucket: 'no-such-bucket' });
    await expect(log.write(record())).rejects.toMatchObject({ code: 'write-failed' });
  });

  it('a missing record is not-found', async () => {
    const log = new S3AuditLog({ client: aws.s3, bucket: 'audit' });
    await expect(log.read('20260101T000000000Z-nothing-00000000')).rejects.toMatchObject({
      code: 'not-found',
    });
  });
});
