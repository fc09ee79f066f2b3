/**
 * What each function ships and how fast it starts: its bundle from cdk.out (the app synthesized
 * offline, cached like test/artifact does), in bytes (and gzipped, as in the deployment zip), and
 * its cold init: a fresh Node process imports the bundle and runs one invocation (the composition
 * root then builds its graph: secrets, Redis, SDK clients), against the artifact suite's local
 * stand-ins. Median of 3 processes. remediate's first invocation includes the settle delay of the
 * artifact configuration (1 s) between its two storage checks.
 *
 * Baseline in the same run: the floor of the stack, a handler that is middy + Powertools Logger
 * and nothing else, bundled the same way. Goal: notify and webhook ≤ 300 KB.
 *
 * Runs alone with `npx tsx bench/run.ts bundles`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { FnName } from '../lib/stacks/pipeline-helpers.ts';
import { type Rig, startRig, WEBHOOK_SECRET } from '../test/artifact/support/rig.ts';
import { FUNCTIONS, loadArtifact, ROOT } from '../test/artifact/support/synth.ts';
import { apiEvent, fixture, sqsEvent, sqsLambdaEvent } from '../test/handlers/support.ts';
import type { Figure } from './figures.ts';

const CHILD = `
const t0 = performance.now();
const mod = await import(process.env.BENCH_BUNDLE);
const t1 = performance.now();
const ctx = { functionName: 'bench', awsRequestId: 'r', getRemainingTimeInMillis: () => 60000 };
await mod.handler(JSON.parse(process.env.BENCH_EVENT), ctx).catch(() => undefined);
const t2 = performance.now();
process.stdout.write(JSON.stringify({ load: t1 - t0, total: t2 - t0 }));
process.exit(0);
`;

const run3 = promisify(execFile);

/** The stand-ins answer from this process: the child runs asynchronously (never execFileSync). */
async function coldInit(
  bundle: string,
  env: Record<string, string>,
  event: unknown
): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { stdout: out } = await run3(process.execPath, ['--input-type=module', '-e', CHILD], {
      timeout: 60_000,
      env: {
        PATH: process.env.PATH ?? '',
        ...env,
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        BENCH_BUNDLE: pathToFileURL(bundle).href,
        BENCH_EVENT: JSON.stringify(event),
      },
      encoding: 'utf8',
    });
    runs.push((JSON.parse(out) as { total: number }).total);
  }
  return runs.sort((a, b) => a - b)[1] as number;
}

const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

function eventFor(name: FnName): unknown {
  const digest = `sha256:${'ab'.repeat(32)}`;
  const finding = {
    id: `manifest-data-missing|library/bench|${digest}`,
    kind: 'manifest-data-missing',
    repository: 'library/bench',
    digest,
    tag: 'v1',
    firstSeen: '2026-11-25T19:55:36.000Z',
    lastSeen: '2026-11-25T19:55:38.000Z',
    evidence: ['bench'],
    verified: true,
    action: 'clear-cache',
  };
  switch (name) {
    case 'webhook':
      return apiEvent(fixture('harbor-webhooks/harbor_webhook_push_artifact_default.json'), {
        Authorization: WEBHOOK_SECRET,
      });
    case 's3-events': {
      const line = readFileSync(
        join(ROOT, 'test/fixtures/registry-traces/e1-push.s3events.ndjson'),
        'utf8'
      ).split('\n')[0]!;
      return sqsEvent([line]);
    }
    case 'remediate':
      return sqsLambdaEvent([JSON.stringify(finding)]);
    case 'notify': {
      const message = JSON.stringify({
        finding,
        outcome: 'would clear 1 key (dry-run)',
        mode: 'dry-run',
        severity: 'critical',
      });
      return {
        Records: [{ EventSource: 'aws:sns', Sns: { Type: 'Notification', Message: message } }],
      };
    }
    default:
      return scheduled;
  }
}

/** The floor: middy + Powertools Logger, bundled like the functions. */
async function floorBundle(dir: string): Promise<string> {
  const entry = join(dir, 'floor.ts');
  writeFileSync(
    entry,
    "import middy from '@middy/core';\nimport { Logger } from '@aws-lambda-powertools/logger';\n" +
      "const logger = new Logger();\nexport const handler = middy().handler(async () => { logger.info('x'); return {}; });\n"
  );
  const out = join(dir, 'floor.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    outfile: out,
    nodePaths: [join(ROOT, 'node_modules')],
    logLevel: 'error',
  });
  return out;
}

export async function run(): Promise<Figure[]> {
  const art = await loadArtifact();
  const dir = mkdtempSync(join(tmpdir(), 'pushguard-bundles-'));
  let rig: Rig | undefined;
  try {
    const floor = await floorBundle(dir);
    const floorBytes = readFileSync(floor).length;
    const floorMs = await coldInit(floor, {}, {});
    rig = await startRig(art);
    const figures: Figure[] = [];
    for (const name of FUNCTIONS) {
      const fn = art.functions[name];
      const bytes = readFileSync(fn.bundle);
      const small = name === 'notify' || name === 'webhook';
      figures.push({
        name: `bundle ${name} (gzip ${(gzipSync(bytes).length / 1024).toFixed(0)} KB)`,
        value: bytes.length / 1024,
        unit: 'KB',
        baseline: { name: 'middy + Logger only', value: floorBytes / 1024 },
        ...(small ? { goal: '≤ 300 KB' } : {}),
      });
      figures.push({
        name: `cold init ${name} (load + first invoke, local)`,
        value: await coldInit(fn.bundle, rig.envOf(name), eventFor(name)),
        unit: 'ms',
        baseline: { name: 'middy + Logger only', value: floorMs },
      });
    }
    return figures;
  } finally {
    await rig?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
