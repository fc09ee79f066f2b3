/**
 * The structure issue 14 asks of lambdas/, checked on every run, each with a control that shows
 * it can fail: no source file over 400 lines, no function over 80 lines, no import cycle from
 * any entry point (type-only imports included). `npx tsx test/support/architecture-report.ts`
 * prints the same rules as a list.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  entryPoints,
  functionSizes,
  importCycles,
  lineCount,
  longFiles,
  longFunctions,
  MAX_FILE_LINES,
  MAX_FUNCTION_LINES,
  ROOT,
  sourceFiles,
} from '../support/architecture.ts';

describe('architecture of lambdas/', () => {
  it(`no source file is over ${MAX_FILE_LINES} lines`, () => {
    expect(sourceFiles('lambdas').length).toBeGreaterThan(100);
    expect(longFiles()).toEqual([]);
  });

  it(`no function is over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(longFunctions()).toEqual([]);
  });

  it('no import cycle from any entry point, type-only imports included', async () => {
    const entries = entryPoints();
    expect(entries).toEqual(
      expect.arrayContaining(['lambdas/cli/main.ts', 'lambdas/local/compose.ts', 'bin/app.ts'])
    );
    expect(entries.filter((e) => e.startsWith('lambdas/handlers/')).length).toBeGreaterThan(2);
    expect(await importCycles(entries)).toEqual([]);
  }, 60_000);
});

describe('architecture checks: controls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushguard-arch-'));
  const rel = (f: string) => relative(ROOT, join(dir, f));

  it('a type-only import cycle is found', async () => {
    writeFileSync(
      join(dir, 'a.ts'),
      "import type { B } from './b.ts';\nexport type A = { b?: B };\n"
    );
    writeFileSync(
      join(dir, 'b.ts'),
      "import type { A } from './a.ts';\nexport type B = { a?: A };\n"
    );
    const cycles = await importCycles([rel('a.ts')]);
    expect(cycles.map((c) => c.map((f) => f.split('/').pop()))).toEqual([['a.ts', 'b.ts']]);
  });

  it('an 81-line function and a 401-line file are measured as such', () => {
    const body = Array.from({ length: 79 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = `export function long(): void {\n${body}\n}\n${'//\n'.repeat(320)}`;
    writeFileSync(join(dir, 'long.ts'), text);
    expect(functionSizes(rel('long.ts'))).toEqual([
      { file: rel('long.ts'), name: 'long', line: 1, lines: 81 },
    ]);
    expect(lineCount(rel('long.ts'))).toBe(401);
    expect(longFunctions([rel('long.ts')])).toEqual([`${rel('long.ts')}:1 long: 81 lines`]);
    expect(longFiles([rel('long.ts')])).toEqual([`${rel('long.ts')}: 401 lines`]);
  });
});
