/**
 * Restore's IAM (issue 12): with `restore.enabled` the remediate role gets exactly s3:PutObject
 * and s3:GetObjectVersion on `<root>/docker/registry/v2/blobs/*` and s3:ListBucketVersions on
 * the bucket, plus its peers' secrets and RESTORE_SOURCES; without it, none of that. Never
 * s3:Delete*. The synth passes cdk-nag with the in-place acknowledgement.
 */

import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { RestoreSourceConfig } from '../../lambdas/config.ts';
import { PushGuardChecks } from '../../lib/nag/pushguard-checks.ts';
import { appWith, asArray, exampleConfig, iamStatements, synth } from './helpers.ts';

const PEER_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pushguard/peer-AbCdEf';
const restore = {
  enabled: true,
  sources: [
    { type: 's3-versions' },
    { type: 'registry', url: 'https://replica.example.com', credentialsSecretArn: PEER_SECRET },
    { type: 'cache-layer' },
  ],
};
const NEW_ACTIONS = ['s3:PutObject', 's3:GetObjectVersion', 's3:ListBucketVersions'];

function registryStatements(pt: ReturnType<typeof synth>['pt']) {
  const bucket = String(exampleConfig().registryBucketName);
  return iamStatements(pt).filter((s) => JSON.stringify(s.Resource).includes(bucket));
}

describe('restore IAM grants', () => {
  it('enabled: exactly PutObject + GetObjectVersion on blobs/*, ListBucketVersions on the bucket', () => {
    const { pt } = synth({ rootDirectory: 'harbor', restore });
    const granted = registryStatements(pt).filter((s) =>
      asArray(s.Action as string | string[]).some((a) => NEW_ACTIONS.includes(a))
    );
    expect(
      granted.map((s) => [asArray(s.Action as string[]).sort(), JSON.stringify(s.Resource)])
    ).toEqual([
      [
        ['s3:GetObjectVersion', 's3:PutObject'],
        expect.stringContaining('/harbor/docker/registry/v2/blobs/*'),
      ],
      [['s3:ListBucketVersions'], expect.not.stringContaining('/')],
    ]);
    const all = iamStatements(pt).flatMap((s) => asArray(s.Action as string | string[]));
    expect(all.filter((a) => /^s3:(Delete|\*)/.test(a))).toEqual([]);
    const fns = pt.findResources('AWS::Lambda::Function');
    const envs = Object.values(fns).map(
      (f) =>
        (f.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment
          ?.Variables ?? {}
    );
    const withSources = envs.filter((v) => v.RESTORE_SOURCES !== undefined);
    expect(withSources).toHaveLength(1);
    expect(
      RestoreSourceConfig.array().parse(JSON.parse(String(withSources[0]!.RESTORE_SOURCES)))
    ).toEqual(restore.sources);
    expect(JSON.stringify(iamStatements(pt))).toContain('pushguard/peer-AbCdEf');
  });

  it('off (absent or enabled: false): none of the restore grants and no RESTORE_SOURCES', () => {
    for (const overrides of [{}, { restore: { ...restore, enabled: false } }]) {
      const { pt } = synth(overrides);
      const actions = registryStatements(pt).flatMap((s) => asArray(s.Action as string | string[]));
      expect(actions.filter((a) => NEW_ACTIONS.includes(a))).toEqual([]);
      expect(JSON.stringify(pt.toJSON())).not.toContain('RESTORE_SOURCES');
    }
  });

  it('reports zero unacknowledged cdk-nag findings with restore on', () => {
    const { app } = appWith(
      { ...exampleConfig(), rootDirectory: 'harbor', restore },
      { nag: true }
    );
    app.synth();
    const found = [new AwsSolutionsChecks(), new ServerlessChecks(), new PushGuardChecks()].flatMap(
      (p) =>
        p
          .validateScope(app)
          .violations.flatMap((v) =>
            v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)
          )
    );
    expect(found).toEqual([]);
  });
});
