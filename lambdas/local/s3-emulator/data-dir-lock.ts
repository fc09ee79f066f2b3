/**
 * One `pushguard local` per data directory: a `.lock` file holding the owner's pid, created
 * exclusively. A lock left by a process that no longer runs (kill -9) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PushGuardError } from '../../domain/errors.ts';

export class DataDirInUseError extends PushGuardError {}

/** Locks this process holds: its own pid in a lock file is stale unless listed here. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock; returns its release. Throws DataDirInUseError if it is held. */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(path);
      return () => {
        held.delete(path);
        rmSync(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8').trim()) || 0;
      const mine = owner === process.pid;
      if ((mine && held.has(path)) || (!mine && owner > 0 && alive(owner))) {
        throw new DataDirInUseError(`${dir} is in use by pushguard local (pid ${owner})`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new DataDirInUseError(`cannot lock ${dir}`);
}
