/**
 * The suite's own rules, checked on its source: no conditional assertions anywhere in test/ (an
 * assertion under an `if`, `?:`, `&&`, `catch` or `case` may never run and still pass).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conditionalAssertions, tsFiles } from '../support/conditional-assertions.ts';

const TEST_DIR = join(import.meta.dirname, '..');

describe('test hygiene', () => {
  it('no test asserts conditionally (every expect runs whenever its test runs)', () => {
    const files = tsFiles(TEST_DIR);
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap(conditionalAssertions)).toEqual([]);
  });

  it('control: the check finds each kind of guarded expect', () => {
    const sample = join(import.meta.dirname, 'fixtures/conditional-assertions.sample.ts.txt');
    expect(conditionalAssertions(sample).map((f) => f.replace(/^.*:(\d+) /, '$1 '))).toEqual([
      '4 (if) expect(a).toBe(1)',
      '5 (?:) expect(a).toBe(2)',
      '6 (&&) expect(a).toBe(3)',
      '10 (catch) expect(e).toBeDefined()',
      '14 (case) expect(a).toBe(4)',
    ]);
  });
});
