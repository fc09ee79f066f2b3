import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MalformedEventError } from '../../../lambdas/domain/errors.ts';
import { parseFinding } from '../../../lambdas/domain/finding-schema.ts';
import type { Finding } from '../../../lambdas/domain/types.ts';

const captured = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../fixtures/window-state-v1/state.json'), 'utf8')
) as { first: { findings: Finding[] }; answered: { findings: Finding[] } };
const findings = [...captured.first.findings, ...captured.answered.findings];
const base = findings.find((f) => f.kind === 'manifest-data-missing')!;

describe('Function: parseFinding — the one strict finding schema', () => {
  it('accepts every finding the engine makes, as an object and as JSON text', () => {
    expect(findings.length).toBe(4);
    for (const f of findings) {
      expect(parseFinding(f)).toEqual(f);
      expect(parseFinding(JSON.stringify(f))).toEqual(f);
    }
  });

  it('accepts prototype member names where the grammar allows them', () => {
    const f = { ...base, repository: 'constructor/tostring', tag: '__proto__' };
    expect(parseFinding(JSON.stringify(f))).toEqual(f);
    expect(parseFinding({ ...base, uploadId: 'hasOwnProperty' }).uploadId).toBe('hasOwnProperty');
    const far = { ...base, lastSeen: new Date(8.64e15).toISOString() };
    expect(parseFinding(far).lastSeen).toBe('+275760-09-13T00:00:00.000Z');
  });

  it.each([
    ['an unknown field', { ...base, extra: 1 }, 'finding'],
    ['a __proto__ field', JSON.parse(`{"__proto__": {"verified": true}, "id": "x"}`), 'finding'],
    ['a kind PushGuard does not make', { ...base, kind: 'delete-everything' }, 'finding.kind'],
    ['an action PushGuard does not take', { ...base, action: 'flushall' }, 'finding.action'],
    ['a repository off the grammar', { ...base, repository: 'Library/../x' }, 'finding.repository'],
    [
      'an empty repository on a repository finding',
      { ...base, repository: '' },
      'finding.repository',
    ],
    ['a digest off the grammar', { ...base, digest: 'sha256:xyz' }, 'finding.digest'],
    ['a tag off the grammar', { ...base, tag: '-x' }, 'finding.tag'],
    ['a time that is not ISO-8601', { ...base, firstSeen: 'yesterday' }, 'finding.firstSeen'],
    ['evidence that is not text', { ...base, evidence: [1] }, 'finding.evidence.0'],
    ['a missing field', { ...base, verified: undefined }, 'finding.verified'],
  ])('refuses %s with a MalformedEventError naming the field', (_what, value, field) => {
    let error: unknown;
    try {
      parseFinding(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MalformedEventError);
    expect((error as Error).message).toContain(field);
  });

  it('accepts removed blob data that no known repository links (empty repository)', () => {
    const removed = {
      ...base,
      kind: 'blob-data-removed',
      repository: '',
      id: 'x',
      action: 'clear-cache',
    };
    expect(parseFinding(removed)).toEqual(removed);
  });

  it('refuses a body that is not JSON', () => {
    expect(() => parseFinding('{"id": ')).toThrow(MalformedEventError);
  });
});
