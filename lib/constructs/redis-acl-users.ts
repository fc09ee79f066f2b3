/**
 * ElastiCache RBAC users for PushGuard's functions: one user per role, with the access string
 * lambdas/redis-acl.ts defines (the same lines the README shows and the ACL integration test runs
 * under), each with a generated password kept in its own Secrets Manager secret
 * (`{"username": ..., "password": ...}`), and one user group holding them.
 *
 * Default settings: users `pushguard-<role>`, group `pushguard`, plus a disabled `default` user
 * (ElastiCache requires one in every group). The group is not attached to a cache here: Harbor's
 * ElastiCache is not PushGuard's; associate the group with it (UserGroupIds) and set
 * `redis.aclUsers: true` so each function connects as its role's user.
 */
import { CfnOutput, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sm from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { accessString, type RedisRole, redisAcls } from '../../lambdas/redis-acl.ts';

export interface RedisAclUsersProps {
  /** PushGuard's state key prefix. @default 'pushguard:' */
  readonly prefix?: string;
  /** User group id. @default 'pushguard' */
  readonly userGroupId?: string;
}

export class RedisAclUsers extends Construct {
  public readonly userGroup: elasticache.CfnUserGroup;
  private readonly secrets = new Map<RedisRole, sm.Secret>();
  private readonly usernames = new Map<RedisRole, string>();

  constructor(scope: Construct, id: string, props: RedisAclUsersProps = {}) {
    super(scope, id);
    const users: elasticache.CfnUser[] = [];
    for (const acl of redisAcls(props.prefix)) {
      const secret = new sm.Secret(this, `${acl.role}Secret`, {
        description: `PushGuard ${acl.role}: ElastiCache RBAC user ${acl.username}`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: acl.username }),
          generateStringKey: 'password',
          // ElastiCache passwords: 16..128 printable characters, no spaces, ", / or @
          excludeCharacters: ' "/@\\\'',
          passwordLength: 40,
        },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotating an ElastiCache RBAC password needs ModifyUser in step with the secret; ' +
          'rotate by redeploying (a new generated value) until a rotation function exists.',
      });
      const user = new elasticache.CfnUser(this, `${acl.role}User`, {
        engine: 'redis',
        userId: acl.username,
        userName: acl.username,
        accessString: accessString(acl),
        authenticationMode: {
          Type: 'password',
          Passwords: [secret.secretValueFromJson('password').unsafeUnwrap()],
        },
      });
      this.secrets.set(acl.role, secret);
      this.usernames.set(acl.role, acl.username);
      users.push(user);
    }
    const disabledDefault = new elasticache.CfnUser(this, 'DefaultUser', {
      engine: 'redis',
      userId: 'pushguard-default',
      userName: 'default',
      accessString: 'off -@all',
      noPasswordRequired: true,
    });
    this.userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine: 'redis',
      userGroupId: props.userGroupId ?? 'pushguard',
      userIds: [disabledDefault.userId, ...users.map((u) => u.userId)],
    });
    for (const u of [disabledDefault, ...users]) this.userGroup.node.addDependency(u);
    new CfnOutput(this, 'UserGroupId', {
      value: this.userGroup.userGroupId,
      description: 'Associate with the ElastiCache replication group (UserGroupIds)',
    });
  }

  /** What a function of `role` connects with: its user name and its password's secret. */
  environmentFor(role: RedisRole): Record<string, string> {
    return {
      REDIS_USERNAME: this.usernames.get(role)!,
      REDIS_AUTH_SECRET_ARN: this.secrets.get(role)!.secretArn,
    };
  }

  /** Lets `grantee` read the password of `role` (and only that role's). */
  grantRead(grantee: iam.IGrantable, role: RedisRole): void {
    this.secrets.get(role)!.grantRead(grantee);
  }
}
