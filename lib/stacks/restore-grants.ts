/**
 * Restore (issue 12), only when `restore.enabled`: the remediate function may create blob data
 * (`s3:PutObject` on `<root>/docker/registry/v2/blobs/*`: single puts, multipart parts and the
 * server-side copy's destination), read old versions (`s3:GetObjectVersion`, the copy's source)
 * and list them (`s3:ListBucketVersions`). Still no `s3:Delete*` (a delete marker is never
 * removed) and no AbortMultipartUpload: an upload aborted on a digest mismatch that S3 refuses
 * is left to the bucket's AbortIncompleteMultipartUpload lifecycle rule. Peer credentials come
 * from their secrets; the sources reach the function as RESTORE_SOURCES.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sm from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { PushGuardConfig } from '../config.ts';
import type { PipelineFunction } from '../constructs/pipeline-function.ts';
import { grantSecretValue } from './pipeline-helpers.ts';

export function grantRestore(
  scope: Construct,
  fn: PipelineFunction,
  config: PushGuardConfig,
  prefix: string
): void {
  const restore = config.restore;
  if (!restore?.enabled) return;
  const bucket = config.registryBucketName;
  const bucketArn = Stack.of(scope).formatArn({
    service: 's3',
    region: '',
    account: '',
    resource: bucket,
  });
  const blobs = `${bucketArn}/${prefix}blobs/*`;
  const role = fn.function;
  role.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject', 's3:GetObjectVersion'],
      resources: [blobs],
    })
  );
  role.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['s3:ListBucketVersions'], resources: [bucketArn] })
  );
  restore.sources.forEach((s, i) => {
    if (s.type === 'registry' && s.credentialsSecretArn) {
      grantSecretValue(
        role,
        sm.Secret.fromSecretCompleteArn(scope, `RestorePeer${i}`, s.credentialsSecretArn)
      );
    }
  });
  role.addEnvironment('RESTORE_SOURCES', JSON.stringify(restore.sources));
  Validations.of(fn).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucket}/${prefix}blobs/*]`,
    reason:
      'Restore writes blob data back under its content-addressed key only (If-None-Match: *, sha256 verified first); no delete.',
  });
}
