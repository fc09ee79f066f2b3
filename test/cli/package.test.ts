/**
 * What `npm pack` ships: the built CLI and the Lambda sources, nothing of the tests; every package
 * the built code imports is a run-time dependency; tsx is not. The whole install is proven by
 * scripts/smoke-package.sh (.ci/run) and test/infra/cdk-consumer.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../lambdas/cli/defaults.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  engines: { node: string };
};

/** Bare package names the built files import (node: built-ins left out). */
function importedPackages(dir: string): Set<string> {
  const names = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.mjs'))) {
    const code = readFileSync(join(dir, f), 'utf8');
    const statements = /^(?:import|export)\s[^;"]*?from\s*"([^"]+)"|\bimport\("([^"]+)"\)/gm;
    for (const m of code.matchAll(statements)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('node:') || spec.startsWith('.')) continue;
      names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return names;
}

describe('the npm package', () => {
  it('the CLI reports the package version', () => {
    expect(VERSION).toBe(pkg.version);
  });

  it('every package the built CLI imports is a run-time dependency; tsx is a dev dependency', () => {
    const imported = importedPackages(join(ROOT, 'dist', 'cli'));
    expect(imported.has('commander')).toBe(true);
    expect([...imported].filter((n) => !(n in pkg.dependencies))).toEqual([]);
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.dependencies).not.toHaveProperty('esbuild');
    expect(pkg.devDependencies).toHaveProperty('tsx');
  });

  it('states Node >= 20.12 (crypto.hash) and this Node satisfies it', () => {
    expect(pkg.engines.node).toBe('>=20.12');
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(major > 20 || (major === 20 && minor >= 12)).toBe(true);
  });

  it('`npm pack` ships the built CLI, its launcher and the Lambda sources, and no tests', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const files = (JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/pushguard.mjs',
        'dist/cli/main.mjs',
        'dist/cli/main.mjs.map',
        'lambdas/handlers/s3-events.ts',
      ])
    );
    expect(files.filter((f) => /^(test|bench|lib|scripts)\/|\.test\.ts$|\.tgz$/.test(f))).toEqual(
      []
    );
  });
});
