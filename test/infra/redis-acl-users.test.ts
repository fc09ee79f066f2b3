/**
 * The ElastiCache RBAC side of least privilege: one user per role with exactly the access string
 * of lambdas/redis-acl.ts, a password in the role's own secret, one group; with
 * `redis.aclUsers`, each function connects as its role's user and may read only that secret.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { accessString, redisAcls } from '../../lambdas/redis-acl.ts';
import { RedisAclUsers } from '../../lib/constructs/redis-acl-users.ts';
import { PushGuardChecks } from '../../lib/nag/pushguard-checks.ts';
import { appWith, exampleConfig, synth } from './helpers.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };

describe('Construct: RedisAclUsers', () => {
  const stack = new Stack();
  new RedisAclUsers(stack, 'Acl');
  const t = Template.fromStack(stack);
  const users = Object.values(t.findResources('AWS::ElastiCache::User')) as Resource[];

  it('creates one user per role with the access string lambdas/redis-acl.ts defines', () => {
    const byName = new Map(users.map((u) => [u.Properties.UserName, u.Properties]));
    for (const acl of redisAcls()) {
      expect(byName.get(acl.username)?.AccessString).toBe(accessString(acl));
      expect(byName.get(acl.username)?.AuthenticationMode).toMatchObject({ Type: 'password' });
    }
    expect(byName.get('default')?.AccessString).toBe('off -@all');
    expect(users).toHaveLength(redisAcls().length + 1);
  });

  it('keeps each password in its own generated secret and groups the users', () => {
    t.resourceCountIs('AWS::SecretsManager::Secret', redisAcls().length);
    t.hasResourceProperties('AWS::ElastiCache::UserGroup', {
      Engine: 'redis',
      UserGroupId: 'pushguard',
      UserIds: Match.arrayWith(['pushguard-default', ...redisAcls().map((a) => a.username)]),
    });
  });
});

describe('Stack: redis.aclUsers', () => {
  it('gives each function (notify aside) its role user', () => {
    const config = exampleConfig() as { redis: Record<string, unknown> };
    const { pt } = synth({ redis: { ...config.redis, aclUsers: true } });
    const fns = Object.values(pt.findResources('AWS::Lambda::Function')) as Resource[];
    const usernames = fns
      .map((f) => f.Properties.Environment as { Variables: Record<string, string> } | undefined)
      .map((e) => e?.Variables.REDIS_USERNAME)
      .filter((u) => u !== undefined)
      .sort();
    expect(usernames).toEqual(
      [
        'pushguard-ingest',
        'pushguard-remediate',
        'pushguard-sweep',
        'pushguard-webhook',
        'pushguard-window-check',
      ].sort()
    );
    pt.resourceCountIs('AWS::ElastiCache::User', redisAcls().length + 1);
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    const config = exampleConfig() as { redis: Record<string, unknown> };
    const { app } = appWith({ ...config, redis: { ...config.redis, aclUsers: true } });
    app.synth();
    const violations = [new AwsSolutionsChecks(), new ServerlessChecks(), new PushGuardChecks()]
      .flatMap((p) => p.validateScope(app).violations)
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(violations).toEqual([]);
  });
});
