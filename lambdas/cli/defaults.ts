/**
 * Defaults every command shares. Everything the CLI writes on its own lives under `.pushguard/`
 * in the working directory (audit records, the local emulator's data), which ensureIgnored keeps
 * out of git.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/** Kept in step with package.json (test/cli/package.test.ts checks it). */
export const VERSION = '0.1.0';

/** The CLI's own folder in the working directory. */
export const STATE_DIR = '.pushguard';

/** Where `audit --fix` and `local` write audit records unless --audit-dir says otherwise. */
export const DEFAULT_AUDIT_DIR = `${STATE_DIR}/audit`;

/** Where `local` keeps the S3 emulator's buckets unless --data-dir or --ephemeral says otherwise. */
export const DEFAULT_DATA_DIR = `${STATE_DIR}/s3`;

/**
 * Creates `dir` and, when it lies inside a `.pushguard` folder, a `.gitignore` of `*` there, so
 * the records stay out of the user's repository without touching their own .gitignore.
 * Returns the absolute path of `dir`.
 */
export function ensureIgnored(dir: string): string {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true });
  const parts = abs.split(sep);
  const at = parts.lastIndexOf(STATE_DIR);
  if (at > 0) {
    const ignore = join(parts.slice(0, at + 1).join(sep) || sep, '.gitignore');
    if (!existsSync(ignore))
      writeFileSync(ignore, '# written by pushguard: keep its data out of git\n*\n');
  }
  return abs;
}
