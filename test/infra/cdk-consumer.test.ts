/**
 * A CDK app of a user's own, outside this repository, adds PushGuard from the packed tarball:
 * `npm pack` of this checkout, `npm install` of the tarball (and esbuild, which NodejsFunction
 * bundles with) into an empty folder, the app's own aws-cdk-lib and constructs (linked from this
 * checkout: a CDK app has them already), then
 *  - `node app.mjs` synthesizes `new PushGuard(stack, 'Guard', {...})` with real esbuild bundling
 *    of the six functions from the Lambda sources the package ships, and gets a ConfigError
 *    listing every problem for bad props;
 *  - tsc type-checks the same app in TypeScript against the shipped declarations (a wrong `mode`
 *    is a type error).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'pushguard-consumer-'));
const app = join(tmp, 'harbor-infra');
const config = (
  JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: { pushguard: unknown } }
).context.pushguard;

const APP_MJS = `import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ConfigError, PushGuard } from 'pushguard/cdk';

const config = ${JSON.stringify(config)};
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'HarborStack', { env: { account: '123456789012', region: 'eu-west-1' } });
new s3.Bucket(stack, 'HarborCharts');
let problems = [];
try {
  new PushGuard(stack, 'Bad', { ...config, registryBucketName: 'Not_A_Bucket', mode: 'yolo' });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  problems = err.problems;
}
new PushGuard(stack, 'Guard', config);
app.synth();
process.stdout.write(JSON.stringify({ problems }));
`;

const APP_TS = `import { App, Stack } from 'aws-cdk-lib';
import { PushGuard, type PushGuardProps } from 'pushguard/cdk';

const config: PushGuardProps = ${JSON.stringify(config)};
const stack = new Stack(new App(), 'HarborStack');
const guard = new PushGuard(stack, 'Guard', { ...config, namePrefix: 'guard' });
const url: string = guard.pipeline.ingress.url;
// @ts-expect-error mode is 'dry-run' | 'enforce'
new PushGuard(stack, 'Bad', { ...config, mode: 'yolo' });
export { url };
`;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

let synthOut = '';

beforeAll(() => {
  run(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--types-only'], ROOT);
  run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp], ROOT);
  const tarball = readdirSync(tmp).find((f) => /^pushguard-.*\.tgz$/.test(f));
  expect(tarball).toBeDefined();
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'harbor-infra', private: true, type: 'module' })
  );
  const esbuild = (
    JSON.parse(readFileSync(join(ROOT, 'node_modules/esbuild/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(tmp, tarball!),
      `esbuild@${esbuild}`,
    ],
    app
  );
  for (const dep of ['aws-cdk-lib', 'constructs']) {
    symlinkSync(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep), 'dir');
  }
  writeFileSync(join(app, 'app.mjs'), APP_MJS);
  synthOut = run(process.execPath, ['app.mjs'], app);
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('pushguard/cdk from the packed tarball, in a CDK app of its own', () => {
  it('synthesizes PushGuard next to the app’s own bucket, each function bundled from the package', () => {
    const template = JSON.parse(
      readFileSync(join(app, 'cdk.out', 'HarborStack.template.json'), 'utf8')
    ) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    const fns = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Runtime === 'nodejs22.x'
    );
    expect(fns).toHaveLength(6);
    for (const f of fns) {
      const key = (f.Properties!.Code as { S3Key: string }).S3Key;
      const asset = join(app, 'cdk.out', `asset.${key.replace(/\.zip$/, '')}`);
      expect(existsSync(join(asset, 'index.mjs'))).toBe(true);
      expect(readFileSync(join(asset, 'index.mjs'), 'utf8')).toMatch(/export\s*\{[^}]*handler/);
      expect(existsSync(join(asset, 'lua', 'window-apply.lua'))).toBe(true);
    }
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::S3::Bucket')).toHaveLength(3); // charts, audit, logs
    expect(types).toContain('AWS::ApiGateway::RestApi');
    expect(types).toContain('AWS::Scheduler::Schedule');
  });

  it('bad props fail with the ConfigError of pushguard/cdk, listing every problem', () => {
    const { problems } = JSON.parse(synthOut) as { problems: string[] };
    expect(problems.join('\n')).toMatch(/registryBucketName/);
    expect(problems.join('\n')).toMatch(/mode/);
  });

  it('type-checks a TypeScript app against the shipped declarations', () => {
    writeFileSync(join(app, 'app.ts'), APP_TS);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['app.ts'],
      })
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], app)).toBe('');
  }, 120_000);
});
