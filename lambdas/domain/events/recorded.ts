/** Recorded replay lines: `{"receivedAt":"<ISO-8601>","body":{...}}` or the body itself. */
import { isObject, parseJson } from './fields.ts';
import { isoToMs } from './time.ts';

/** A string line is parsed as JSON first; any other key beside the two means "not wrapped". */
export function unwrapRecorded(line: unknown): { receivedAt?: number; body: unknown } {
  const value = typeof line === 'string' ? parseJson(line, 'line') : line;
  if (!isObject(value) || !('body' in value)) return { body: value };
  for (const k of Object.keys(value)) {
    if (k !== 'body' && k !== 'receivedAt') return { body: value };
  }
  if (value.receivedAt === undefined) return { body: value.body };
  return { receivedAt: isoToMs(value.receivedAt, 'receivedAt'), body: value.body };
}
