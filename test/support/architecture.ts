/**
 * Structure measurements for test/unit/architecture.test.ts: file lengths, function lengths (the
 * TypeScript compiler's own parse) and import cycles (dpdm, type-only imports included).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseCircular, parseDependencyTree } from 'dpdm';
import ts from 'typescript';

export const ROOT = join(import.meta.dirname, '../..');

/** Every source file below `dir` (relative to the repository root), tests excluded. */
export function sourceFiles(dir: string, extensions = ['.ts', '.lua', '.mjs']): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs).sort()) {
      const path = join(abs, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (extensions.some((e) => name.endsWith(e)) && !/\.(test|spec)\.ts$/.test(name))
        out.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, dir));
  return out;
}

export function lineCount(file: string): number {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
}

export interface FunctionSize {
  file: string;
  name: string;
  line: number;
  lines: number;
}

function functionName(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) {
    return parent.name.getText(sf);
  }
  if (ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  return '(anonymous)';
}

/** Every function-like node of a TypeScript file with its length in lines (first to last). */
export function functionSizes(file: string): FunctionSize[] {
  const sf = ts.createSourceFile(
    file,
    readFileSync(join(ROOT, file), 'utf8'),
    ts.ScriptTarget.ES2022,
    true
  );
  const out: FunctionSize[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body !== undefined) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ file, name: functionName(node, sf), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Import cycles reachable from `entries`, type-only imports included (dpdm, no transform). */
export async function importCycles(entries: string[]): Promise<string[][]> {
  const tree = await parseDependencyTree(entries, {
    context: ROOT,
    cwd: ROOT,
    tsconfig: join(ROOT, 'tsconfig.json'),
    transform: false,
    skipDynamicImports: false,
    extensions: ['.ts', '.mjs', '.js', '.json'],
    include: /\.(ts|mjs|js)$/,
    exclude: /node_modules/,
  });
  return parseCircular(tree, false);
}

/** Every entry point: the Lambda handlers, the CLI, `pushguard local` and the CDK app. */
export function entryPoints(): string[] {
  return [
    ...readdirSync(join(ROOT, 'lambdas/handlers'))
      .filter((f) => f.endsWith('.ts'))
      .sort()
      .map((f) => `lambdas/handlers/${f}`),
    'lambdas/cli/main.ts',
    'lambdas/local/compose.ts',
    'bin/app.ts',
  ];
}

export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 80;

/** Source files of lambdas/ over MAX_FILE_LINES, as `file: N lines`. */
export function longFiles(files = sourceFiles('lambdas')): string[] {
  return files
    .map((f) => ({ f, n: lineCount(f) }))
    .filter(({ n }) => n > MAX_FILE_LINES)
    .map(({ f, n }) => `${f}: ${n} lines`);
}

/** Functions of lambdas/ over MAX_FUNCTION_LINES, as `file:line name: N lines`. */
export function longFunctions(files = sourceFiles('lambdas')): string[] {
  return files
    .filter((f) => f.endsWith('.ts'))
    .flatMap(functionSizes)
    .filter((s) => s.lines > MAX_FUNCTION_LINES)
    .map((s) => `${s.file}:${s.line} ${s.name}: ${s.lines} lines`);
}

/** The three structure rules over lambdas/, as lists of violations (empty: all kept). */
export async function structureViolations(): Promise<{
  files: string[];
  functions: string[];
  cycles: string[];
}> {
  return {
    files: longFiles(),
    functions: longFunctions(),
    cycles: (await importCycles(entryPoints())).map((c) => c.join(' -> ')),
  };
}
