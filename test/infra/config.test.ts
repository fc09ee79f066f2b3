/**
 * Deployment configuration (cdk.json `pushguard` context): defaults, and ONE error listing every
 * problem, through the same path `cdk synth` takes (buildPushGuard).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/domain/errors.ts';
import { parsePushGuardConfig, registryPrefix } from '../../lib/config.ts';
import { thrown } from '../support/thrown.ts';
import { appWith, exampleConfig } from './helpers.ts';

function problemsOf(raw: unknown): string[] {
  const err = thrown(() => parsePushGuardConfig(raw));
  expect(err).toBeInstanceOf(ConfigError);
  return [...(err as ConfigError).problems];
}

describe('parsePushGuardConfig()', () => {
  it('accepts the cdk.json example and fills secure defaults', () => {
    const { registryDb, ...noOptional } = exampleConfig();
    const minimal = {
      ...noOptional,
      registryDb,
      mode: undefined,
      enableWaf: undefined,
      caps: undefined,
      windowMinutes: undefined,
    };
    const c = parsePushGuardConfig(JSON.parse(JSON.stringify(minimal)));
    expect(c).toMatchObject({
      mode: 'dry-run',
      enableWaf: true,
      useEventBridge: false,
      windowMinutes: 15,
      caps: { perRun: 20, perHour: 100, perFinding: 10 },
      sweepCron: 'cron(0 3 * * ? *)',
    });
    expect(c.redis.tls).toBe(true);
    expect(registryPrefix(c)).toBe('docker/registry/v2/');
    expect(registryPrefix({ rootDirectory: 'a/b' })).toBe('a/b/docker/registry/v2/');
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      ...exampleConfig(),
      registryBucketName: 'Not_A_Bucket',
      registryDb: undefined,
      windowMinutes: 121,
      mode: 'yolo',
      sweepCron: '0 3 * * *',
      subnetIds: [],
      webhook: { secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' },
      redisCidr: undefined,
    });
    const fields = problems.map((p) => p.split(':')[0]);
    expect(fields).toEqual(
      expect.arrayContaining([
        'registryBucketName',
        'registryDb',
        'windowMinutes',
        'mode',
        'subnetIds',
        'webhook.secretArn',
        'sweepCron',
        'redisCidr',
      ])
    );
    expect(problems.length).toBeGreaterThanOrEqual(8);
  });

  it('requires registryDb (no 1-vs-2 guess) and keeps the state DB apart from it', () => {
    const { registryDb: _r, ...rest } = exampleConfig();
    expect(problemsOf(rest)).toEqual([
      'registryDb: Invalid input: expected number, received undefined',
    ]);
    const same = exampleConfig();
    (same.redis as { db: number }).db = same.registryDb as number;
    expect(problemsOf(same)).toEqual([
      'redis.db: must differ from registryDb (PushGuard never writes state there)',
    ]);
  });

  it('bounds the window to 1 s .. 2 h in whole seconds', () => {
    for (const ok of [1 / 60, 1.5, 120]) {
      expect(parsePushGuardConfig({ ...exampleConfig(), windowMinutes: ok }).windowMinutes).toBe(
        ok
      );
    }
    for (const bad of [0, 1 / 120, 120.5, 0.001]) {
      expect(problemsOf({ ...exampleConfig(), windowMinutes: bad })[0]).toMatch(/^windowMinutes/);
    }
  });

  it('refuses a missing context object and non-JSON string context', () => {
    expect(problemsOf(undefined)).toEqual(['pushguard: context object is missing (see cdk.json)']);
    expect(() => appWith('{not json')).toThrow(/context is a string but not JSON/);
  });

  it('accepts the context as a JSON string (cdk -c pushguard=...)', () => {
    const { pipeline } = appWith(JSON.stringify({ ...exampleConfig(), mode: 'enforce' }));
    expect(pipeline.functions.remediate).toBeDefined();
  });

  it('fails the app build (synth) with the same single error', () => {
    expect(() => appWith({ ...exampleConfig(), registryDb: -1, mode: 'x' })).toThrow(
      /invalid configuration:\n {2}- registryDb: .*\n {2}- mode: /
    );
  });
});
