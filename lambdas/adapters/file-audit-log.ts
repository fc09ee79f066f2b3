/**
 * AuditLog in a local directory (`pushguard local`, CLI runs): one JSON file per record,
 * `<dir>/<id>.json`, created with `wx` (O_CREAT|O_EXCL) so an existing record is never
 * overwritten, fsynced (file, then directory) before `write` resolves: once it resolves the record
 * survives a crash, which is what lets the remediator delete afterwards. Any failure throws
 * AuditLogError and the caller deletes nothing. Files are created read-only (0444).
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { assertAuditId, decodeAuditRecord, encodeAuditRecord } from '../app/audit-record.ts';
import { AuditLogError } from '../domain/errors.ts';
import type { RemediationRecord } from '../domain/remediation.ts';
import type { AuditLog } from '../ports.ts';

export class FileAuditLog implements AuditLog {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = resolve(directory);
  }

  pathOf(id: string): string {
    assertAuditId(id);
    return join(this.directory, `${id}.json`);
  }

  async write(record: RemediationRecord): Promise<string> {
    const path = this.pathOf(record.id);
    const text = encodeAuditRecord(record);
    try {
      await mkdir(this.directory, { recursive: true });
    } catch (err) {
      throw new AuditLogError('write-failed', `cannot create audit directory ${this.directory}`, {
        cause: err,
      });
    }
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path, 'wx', 0o444);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new AuditLogError('exists', `audit record ${path} already exists; not overwritten`);
      }
      throw new AuditLogError('write-failed', `cannot create audit record ${path}`, { cause: err });
    }
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(path).catch(() => undefined); // our own partial file, never a previous record
      throw new AuditLogError('write-failed', `cannot write audit record ${path}`, { cause: err });
    }
    await fh.close();
    await this.syncDirectory();
    return record.id;
  }

  async read(id: string): Promise<RemediationRecord> {
    const path = this.pathOf(id);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new AuditLogError('not-found', `no audit record ${path}`);
      }
      throw err;
    }
    return decodeAuditRecord(text, path);
  }

  /** The directory entry must be durable too, or a crash could lose the new file's name. */
  private async syncDirectory(): Promise<void> {
    let dh: Awaited<ReturnType<typeof open>> | undefined;
    try {
      dh = await open(this.directory, 'r');
      await dh.sync();
    } catch (err) {
      throw new AuditLogError('write-failed', `cannot fsync ${this.directory}`, { cause: err });
    } finally {
      await dh?.close().catch(() => undefined);
    }
  }
}

/** Reads and verifies an audit record file given by path (for `pushguard restore`). */
export async function readAuditRecordFile(path: string): Promise<RemediationRecord> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AuditLogError('not-found', `cannot read audit record ${path}`, { cause: err });
  }
  return decodeAuditRecord(text, path);
}
