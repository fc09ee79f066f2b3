#!/usr/bin/env node
/**
 * `npm run build`: bundles the CLI (lambdas/cli/main.ts → dist/cli/) and, when present, the CDK
 * construct library (lib/index.ts → dist/cdk/) with esbuild: ESM for Node 20, source maps,
 * packages left external (they are the package's dependencies). The CLI bundle is split at every
 * `await import()`, so a command's modules load only when it runs. Type checking is separate
 * (`npm run typecheck`). `--types` also writes the construct library's declarations
 * (dist/cdk/types/, tsc; `npm pack` builds with it); `--types-only` writes just those, leaving the
 * rest of dist/ as it is.
 *
 * dist/cdk/index.mjs sits two folders below the package root, like lib/stacks/*.ts: the handler
 * sources the construct hands to NodejsFunction (`../../lambdas/handlers/`) resolve alike from both.
 *
 * `.lua` files: a module reading `new URL('<path>.lua', import.meta.url)` gets the file copied to
 * <outdir>/lua/ and the URL rewritten to it (bundled code no longer sits next to its sources).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LUA_URL = /new URL\(\s*(['"])([^'"]+\.lua)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Rewrites `new URL('x.lua', import.meta.url)` to a copy in <outdir>/lua/. */
function luaFiles(outdir) {
  return {
    name: 'lua-files',
    setup(build) {
      const copied = new Map();
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('.lua')) return undefined;
        const contents = source.replace(LUA_URL, (_all, quote, rel) => {
          const from = resolve(dirname(args.path), rel);
          const name = basename(from);
          const seen = copied.get(name);
          if (seen && seen !== from) {
            throw new Error(`two Lua files named ${name}: ${seen} and ${from}`);
          }
          copied.set(name, from);
          mkdirSync(join(outdir, 'lua'), { recursive: true });
          copyFileSync(from, join(outdir, 'lua', name));
          return `new URL(${quote}./lua/${name}${quote}, import.meta.url)`;
        });
        return { contents, loader: 'ts' };
      });
    },
  };
}

function options(entry, outdir, extra = {}) {
  return {
    absWorkingDir: root,
    entryPoints: [entry],
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
    plugins: [luaFiles(join(root, outdir))],
    ...extra,
  };
}

/**
 * Declarations of lib/index.ts and what it imports, with relative `.ts` specifiers turned into
 * `.js` (resolved to the `.d.ts` next to them by any consumer's TypeScript).
 */
function declarations() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.cdk.json')], {
    stdio: 'inherit',
  });
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.d.ts')) {
        const text = readFileSync(file, 'utf8');
        writeFileSync(
          file,
          text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2')
        );
      }
    }
  };
  walk(join(root, 'dist', 'cdk', 'types'));
}

/** Builds everything into dist/ (emptied first); returns the entry files built. */
export async function build({ types = false } = {}) {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const built = [];
  await esbuild.build(
    options('lambdas/cli/main.ts', 'dist/cli', {
      splitting: true,
      chunkNames: '[name]-[hash]',
    })
  );
  built.push('dist/cli/main.mjs');
  if (existsSync(join(root, 'lib/index.ts'))) {
    await esbuild.build(options('lib/index.ts', 'dist/cdk'));
    built.push('dist/cdk/index.mjs');
    if (types) {
      declarations();
      built.push('dist/cdk/types/');
    }
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  let built = ['dist/cdk/types/'];
  if (process.argv.includes('--types-only')) declarations();
  else built = await build({ types: process.argv.includes('--types') });
  const ms = Math.round(performance.now() - started);
  process.stdout.write(`built ${built.join(', ')} in ${ms} ms\n`);
}
