/**
 * `PushGuard` (lib/pushguard.ts, exported as `pushguard/cdk`) in a user's own stack: it composes
 * exactly what the repository's two stacks compose, validates its props with the cdk.json schema,
 * and two of them can live side by side. Asset bundling is skipped here (see helpers.ts);
 * cdk-consumer.test.ts synthesizes with real bundling from the packed tarball.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  PushGuard,
  type PushGuardProps,
  parsePushGuardConfig,
} from '../../lib/index.ts';
import { thrown } from '../support/thrown.ts';
import { cdkJson, exampleConfig, resources, synth } from './helpers.ts';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function userStack() {
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'HarborStack', { env: ENV });
}

const example = () => exampleConfig() as unknown as PushGuardProps;

/** Resource type → count. */
function typeCounts(...templates: Template[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of templates) {
    for (const r of Object.values(t.toJSON().Resources as Record<string, { Type: string }>)) {
      counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
    }
  }
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

function configErrorOf(build: () => unknown): ConfigError {
  const err = thrown(build);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('PushGuard construct in a user stack', () => {
  it('adds every resource the two stacks hold, next to the stack’s own', () => {
    const stack = userStack();
    new s3.Bucket(stack, 'HarborCharts');
    const guard = new PushGuard(stack, 'Guard', example());
    const t = Template.fromStack(stack);
    const two = synth();
    const expected = typeCounts(two.st, two.pt);
    expected.set('AWS::S3::Bucket', (expected.get('AWS::S3::Bucket') ?? 0) + 1);
    expect(typeCounts(t)).toEqual(expected);
    const handlers = Object.values(resources(t, 'AWS::Lambda::Function')).filter(
      (f) => f.Properties?.Handler === 'index.handler' && f.Properties?.Runtime === 'nodejs22.x'
    );
    expect(handlers).toHaveLength(6);
    expect(Object.keys(guard.pipeline.functions).sort()).toEqual(
      ['notify', 'remediate', 's3-events', 'sweep', 'webhook', 'window-check'].sort()
    );
    expect(guard.config.mode).toBe('dry-run');
  });

  it('validates its props with the cdk.json schema: one ConfigError listing every problem', () => {
    const bad = {
      ...example(),
      registryBucketName: 'Not_A_Bucket',
      mode: 'yolo',
      redis: { ...example().redis, port: 70_000 },
    } as unknown as PushGuardProps;
    const err = configErrorOf(() => new PushGuard(userStack(), 'Guard', bad));
    expect(err.problems.length).toBeGreaterThanOrEqual(3);
    expect(err.problems).toEqual(configErrorOf(() => parsePushGuardConfig(bad)).problems);
    expect(err.problems.join('\n')).toMatch(/registryBucketName/);
    expect(err.problems.join('\n')).toMatch(/redis\.port/);
    expect(err.problems.join('\n')).toMatch(/mode/);
  });

  it('two PushGuards in one stack, told apart by namePrefix, get their own audit buckets', () => {
    const stack = userStack();
    new PushGuard(stack, 'Prod', { ...example(), namePrefix: 'pg-prod' });
    new PushGuard(stack, 'Staging', {
      ...example(),
      registryBucketName: 'harbor-registry-staging',
      namePrefix: 'pg-staging',
    });
    const names = Object.values(resources(Template.fromStack(stack), 'AWS::S3::Bucket'))
      .map((b) => b.Properties?.BucketName)
      .filter((n) => n !== undefined)
      .map((n) => JSON.stringify(n));
    expect(names).toHaveLength(2);
    expect(names.some((n) => n.includes('pg-prod-audit-123456789012-eu-west-1'))).toBe(true);
    expect(names.some((n) => n.includes('pg-staging-audit-123456789012-eu-west-1'))).toBe(true);
  });
});
