/**
 * The on-disk / in-bucket form of a write-ahead audit record (reliability.md requirement 9), shared
 * by FileAuditLog, S3AuditLog and `pushguard restore`:
 *
 *   { "format": "pushguard-audit-record/1", "sha256": "<hex>", "record": { ...RemediationRecord } }
 *
 * `sha256` is the hash of the record's canonical JSON (object keys sorted, no whitespace), so any
 * edit of the stored record is evident: `decodeAuditRecord` verifies it and the record's shape.
 * The hash is evidence of tampering, not a signature: whoever can rewrite the object can rewrite
 * the hash too; S3 Object Lock (and `IfNoneMatch`/`wx` here) is what makes records immutable.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { AuditLogError } from '../domain/errors.ts';
import type { RemediationRecord } from '../domain/remediation.ts';

export const AUDIT_FORMAT = 'pushguard-audit-record/1';

/** Ids are file names and object keys: no path separators, no dots first. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function assertAuditId(id: string): void {
  if (typeof id !== 'string' || !ID.test(id) || id.includes('..')) {
    throw new AuditLogError('invalid', `invalid audit record id ${JSON.stringify(id)}`);
  }
}

/** `20261125T195536123Z-manifest-data-missing-1a2b3c4d`: sortable by time, unique by chance. */
export function newAuditId(now: number, kind: string): string {
  const ts = new Date(now).toISOString().replace(/[-:.]/g, '');
  const safeKind = kind.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40);
  return `${ts}-${safeKind}-${randomBytes(4).toString('hex')}`;
}

/** JSON with object keys sorted at every level and no whitespace; `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function recordHash(record: unknown): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

const Snapshot = z.object({
  store: z.enum(['registry', 'cache-layer']),
  key: z.string().min(1),
  type: z.enum(['hash', 'set-member', 'string']),
  member: z.string().optional(),
  hash: z.record(z.string(), z.string()).optional(),
  encoding: z.enum(['utf8', 'base64']).optional(),
  valueBase64: z.string().optional(),
  pttl: z.number().int(),
});

const Record_ = z.object({
  id: z.string(),
  at: z.string(),
  mode: z.enum(['dry-run', 'enforce']),
  actor: z.string(),
  version: z.string(),
  reason: z.string(),
  finding: z.looseObject({
    id: z.string(),
    kind: z.string(),
    repository: z.string(),
  }),
  storageEvidence: z.array(z.object({ key: z.string(), checks: z.array(z.string()) })),
  snapshots: z.array(Snapshot),
  decision: z.enum(['delete', 'dry-run', 'skip', 'over-cap', 'restore']),
  restore: z
    .object({
      source: z.string(),
      origin: z.string(),
      key: z.string(),
      verifiedDigest: z.string(),
      size: z.number().int().nonnegative(),
    })
    .optional(),
});

const Envelope = z.object({
  format: z.literal(AUDIT_FORMAT),
  sha256: z.string().regex(/^[a-f0-9]{64}$/),
  record: z.unknown(),
});

/** The stored text: pretty JSON (for people) around the canonical hash (for machines). */
export function encodeAuditRecord(record: RemediationRecord): string {
  assertAuditId(record.id);
  const plain = JSON.parse(JSON.stringify(record)) as unknown;
  return `${JSON.stringify({ format: AUDIT_FORMAT, sha256: recordHash(plain), record: plain }, null, 2)}\n`;
}

/** Parses and verifies a stored record; AuditLogError `tampered` or `invalid` otherwise. */
export function decodeAuditRecord(text: string, where = 'audit record'): RemediationRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AuditLogError('invalid', `${where} is not JSON`, { cause: err });
  }
  const env = Envelope.safeParse(json);
  if (!env.success) {
    throw new AuditLogError('invalid', `${where} is not a ${AUDIT_FORMAT}: ${env.error.message}`);
  }
  const actual = recordHash(env.data.record);
  if (actual !== env.data.sha256) {
    throw new AuditLogError(
      'tampered',
      `${where} was modified: its content hashes to ${actual}, the record says ${env.data.sha256}`
    );
  }
  const rec = Record_.safeParse(env.data.record);
  if (!rec.success) {
    throw new AuditLogError('invalid', `${where} has an invalid record: ${rec.error.message}`);
  }
  return env.data.record as RemediationRecord;
}
