/** Field checks and paths shared by the normalisers: every error names its dotted path. */
import type { z } from 'zod';
import { MalformedEventError } from '../errors.ts';
import type { Obj } from './types.ts';

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Joins a field prefix and a path: `at('Message', 'Records[0].s3')`, `at('', 'occur_at')`. */
export function at(prefix: string, field: string): string {
  if (prefix === '') return field;
  if (field === '') return prefix;
  return field.charCodeAt(0) === 91 /* [ */ ? `${prefix}${field}` : `${prefix}.${field}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** The first zod issue as a MalformedEventError on its full path. */
export function zodError(prefix: string, error: z.ZodError): MalformedEventError {
  const issue = error.issues[0];
  if (issue === undefined) return new MalformedEventError(prefix || 'body', 'invalid');
  return new MalformedEventError(at(prefix, formatPath(issue.path)) || 'body', issue.message);
}

export function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new MalformedEventError(field, `not JSON: ${(e as Error).message}`);
  }
}
