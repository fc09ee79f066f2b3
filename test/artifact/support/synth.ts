/**
 * Synthesizes the real app ONCE per source state (offline, with the real esbuild bundling) and
 * describes what ships: per function, its bundle in cdk.out, the environment its template gives
 * it and its role's policy statements. cdk.out is cached under node_modules/.cache, keyed by a
 * hash of everything that goes into it (lib/, lambdas/, cdk.json, package-lock.json, the config
 * below); concurrent test files wait on one synth (a lock directory).
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildPushGuard } from '../../../lib/app.ts';
import type { FnName } from '../../../lib/stacks/pipeline-helpers.ts';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const PREFIX = 'PushGuard';
export const FUNCTIONS: readonly FnName[] = [
  'webhook',
  's3-events',
  'window-check',
  'remediate',
  'sweep',
  'notify',
];

export const secretArn = (name: string) =>
  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:pushguard/${name}-AbCdEf`;

/** The deployment configuration the artifact is built with (every integration on). */
export function artifactConfig(): Record<string, unknown> {
  return {
    registryBucketName: 'harbor',
    rootDirectory: 'harbor',
    registryDb: 1,
    harborHost: 'harbor.example.com',
    redis: {
      host: 'harbor-redis.internal.example.com',
      port: 6379,
      db: 9,
      tls: false,
      authSecretArn: secretArn('redis-auth'),
    },
    windowMinutes: 1 / 60,
    mode: 'enforce',
    settleSeconds: 1,
    caps: { perRun: 20, perHour: 100, perFinding: 10 },
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: ['subnet-0123456789abcdef0'],
    redisCidr: '10.0.0.0/16',
    webhook: { secretArn: secretArn('webhook-current') },
    slack: { webhookSecretArn: secretArn('slack-webhook') },
    jira: {
      baseUrl: 'https://example.atlassian.net',
      projectKey: 'OPS',
      email: 'pushguard@example.com',
      tokenSecretArn: secretArn('jira-token'),
    },
    sweepCron: 'cron(0 3 * * ? *)',
    enableWaf: true,
  };
}

export type CfnValue = unknown;
export interface Template {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
  Outputs?: Record<string, { Value: CfnValue; Export?: { Name: string } }>;
}

export interface ShippedFunction {
  name: FnName;
  logicalId: string;
  /** The bundle Lambda runs (`index.handler`). */
  bundle: string;
  bundleBytes: number;
  /** Environment.Variables as in the template (strings or intrinsics). */
  environment: Record<string, CfnValue>;
  /** The role's inline policy statements, as in the template (intrinsics unresolved). */
  statements: Record<string, unknown>[];
  inVpc: boolean;
}

export interface Artifact {
  outdir: string;
  stateful: Template;
  pipeline: Template;
  functions: Record<FnName, ShippedFunction>;
}

function hashTree(h: ReturnType<typeof createHash>, dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name)
  )) {
    const p = join(dir, e.name);
    if (e.isDirectory()) hashTree(h, p);
    else {
      h.update(relative(ROOT, p));
      h.update(readFileSync(p));
    }
  }
}

function sourceKey(config: unknown): string {
  const h = createHash('sha256');
  for (const d of ['lib', 'lambdas']) hashTree(h, join(ROOT, d));
  for (const f of ['cdk.json', 'package-lock.json']) h.update(readFileSync(join(ROOT, f)));
  h.update(JSON.stringify(config));
  h.update(readFileSync(import.meta.filename));
  return h.digest('hex').slice(0, 16);
}

function synthInto(outdir: string, config: unknown): void {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    outdir,
    // What the CDK CLI sets: the resources' construct paths and their assets' folders.
    context: {
      ...cdkJson.context,
      pushguard: config,
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:enable-asset-metadata': true,
    },
  });
  buildPushGuard(app, { nag: false, env: { account: ACCOUNT, region: REGION } });
  app.synth();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** cdk.out for the current sources (synthesized now, or by a concurrent caller, or cached). */
export async function synthOnce(config = artifactConfig()): Promise<string> {
  const base = join(ROOT, 'node_modules', '.cache', 'pushguard-artifact');
  const dir = join(base, sourceKey(config));
  const done = join(dir, 'done');
  mkdirSync(base, { recursive: true });
  const lock = `${dir}.lock`;
  for (let waited = 0; !existsSync(done); waited += 200) {
    let mine = false;
    try {
      mkdirSync(lock);
      mine = true;
    } catch {
      // someone else synthesizes: wait for it (a crashed synth leaves a stale lock for 5 min)
      if (waited > 300_000) rmSync(lock, { recursive: true, force: true });
    }
    if (mine) {
      try {
        if (!existsSync(done)) {
          rmSync(dir, { recursive: true, force: true });
          synthInto(join(dir, 'cdk.out'), config);
          writeFileSync(done, new Date().toISOString());
        }
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    } else await sleep(200);
  }
  return join(dir, 'cdk.out');
}

function readTemplate(outdir: string, stack: string): Template {
  return JSON.parse(readFileSync(join(outdir, `${stack}.template.json`), 'utf8')) as Template;
}

/** The roles' inline statements, by role logical id. */
function statementsByRole(t: Template): Map<string, Record<string, unknown>[]> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const r of Object.values(t.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const doc = r.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const role of (r.Properties?.Roles as { Ref: string }[]) ?? []) {
      out.set(role.Ref, [...(out.get(role.Ref) ?? []), ...doc.Statement]);
    }
  }
  return out;
}

/** Synthesizes (once) and reads what ships. */
export async function loadArtifact(config = artifactConfig()): Promise<Artifact> {
  const outdir = await synthOnce(config);
  const stateful = readTemplate(outdir, `${PREFIX}Stateful`);
  const pipeline = readTemplate(outdir, `${PREFIX}Pipeline`);
  const byRole = statementsByRole(pipeline);
  const functions = {} as Record<FnName, ShippedFunction>;
  for (const [logicalId, r] of Object.entries(pipeline.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const path = String(r.Metadata?.['aws:cdk:path'] ?? '');
    const name = FUNCTIONS.find((n) => path.includes(`/${pascal(n)}Fn/`));
    if (!name) continue;
    const asset = String(r.Metadata?.['aws:asset:path']);
    const bundle = join(outdir, asset, 'index.mjs');
    const props = r.Properties ?? {};
    const roleId = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    functions[name] = {
      name,
      logicalId,
      bundle,
      bundleBytes: statSync(bundle).size,
      environment: (props.Environment as { Variables: Record<string, unknown> }).Variables,
      statements: byRole.get(roleId) ?? [],
      inVpc: props.VpcConfig !== undefined,
    };
  }
  return { outdir, stateful, pipeline, functions };
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}
