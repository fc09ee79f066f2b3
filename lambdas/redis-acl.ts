/**
 * Least privilege inside Redis: one ACL user per role of the deployed functions, allowed only
 * the commands and key patterns that role sends. The one source of truth for the ACL lines the
 * README shows, the ElastiCache RBAC users the CDK creates (lib/constructs/redis-acl-users.ts),
 * and the users test/integration/redis-acl.test.ts runs each role's scenario under.
 *
 * Why these lines:
 * - Every role starts from `-@all` and no channels; `on` is required by ElastiCache RBAC (which
 *   refuses `reset` and passwords in an access string: passwords come from a secret per role).
 * - Only remediate and sweep may touch the registry's keys (`blobs::*`, `repository::*`) and
 *   Harbor core's cache-layer keys, and they are the only roles with a delete command there
 *   (DEL/UNLINK/SREM). webhook, ingest and window-check have key patterns under PushGuard's own
 *   prefix only: a DEL of a registry key answers NOPERM for them, even from a script.
 * - The state roles delete only their own state (a closed window's scope, a released dedupe
 *   claim, the outbox lease), under narrower patterns than the whole prefix.
 * - notify talks to Slack/SNS only: it has no Redis user.
 * - Connection set-up is allowed for everyone: AUTH, SELECT (a DB per store), INFO
 *   (ioredis' ready check), CLIENT SETNAME (the connection name), PING.
 */

export type RedisRole = 'webhook' | 'ingest' | 'window-check' | 'remediate' | 'sweep';

export const REDIS_ROLES: readonly RedisRole[] = [
  'webhook',
  'ingest',
  'window-check',
  'remediate',
  'sweep',
];

export interface RoleAcl {
  role: RedisRole;
  /** ACL user name (ElastiCache user name and user id). */
  username: string;
  /** Key patterns, without the `~`. */
  keys: readonly string[];
  /** Commands allowed after `-@all`, lowercase, `command|subcommand` for one subcommand. */
  commands: readonly string[];
  /** What the role does with Redis. */
  why: string;
}

const CONNECT = ['auth', 'select', 'info', 'ping', 'client|setname'];
const SCRIPTS = ['evalsha', 'eval'];

/** What RedisWindowStore sends (its Lua scripts' commands included). */
const WINDOW_STORE = [
  ...SCRIPTS,
  'mget',
  'get',
  'set',
  'del',
  'scard',
  'smismember',
  'sadd',
  'zadd',
  'zrem',
  'pttl',
  'pexpire',
  'expire',
  'rpush',
  'llen',
  'lrange',
  'lindex',
  'lpop',
];

/** What the remediator sends: state (claims, budget, removal rate) and the caches it clears. */
const REMEDIATOR = [
  ...SCRIPTS,
  // PushGuard's state: dedupe claims, the delete budget, the removal rate
  'set',
  'get',
  'del',
  'incr',
  'incrby',
  'pexpire',
  'mget',
  'multi',
  'exec',
  // the registry cache and Harbor's cache layer: read, compare, delete
  'scan',
  'sscan',
  'type',
  'pttl',
  'hgetall',
  'hget',
  'hlen',
  'sismember',
  'srem',
  'unlink',
];

/** The keys of the registry's blob-descriptor cache and of Harbor core's cache layer. */
const REGISTRY_KEYS = [
  'blobs::*',
  'repository::*',
  'cache:manifest:digest:*',
  'cache:artifact:repository:*',
];

/** Every role's rights, for a state key prefix (`pushguard:` by default). */
export function redisAcls(prefix = 'pushguard:'): RoleAcl[] {
  const windowKeys = ['repo:*', 'blob:*', 'seen:*', 'deadlines', 'outbox', 'outbox:lease'].map(
    (k) => `${prefix}${k}`
  );
  const remediatorKeys = [
    `${prefix}dedupe:*`,
    `${prefix}delete-budget:*`,
    `${prefix}removals:*`,
    ...REGISTRY_KEYS,
  ];
  return [
    {
      role: 'webhook',
      username: 'pushguard-webhook',
      keys: [`${prefix}dedupe:*`],
      commands: [...CONNECT, 'set', 'del'],
      why: 'delivery dedupe of Harbor webhooks (SET NX EX, DEL to release)',
    },
    {
      role: 'ingest',
      username: 'pushguard-ingest',
      keys: windowKeys,
      commands: [...CONNECT, ...WINDOW_STORE],
      why: 'applies S3 and webhook events to the window state, drains the findings outbox',
    },
    {
      role: 'window-check',
      username: 'pushguard-window-check',
      keys: windowKeys,
      commands: [...CONNECT, ...WINDOW_STORE, 'zrangebyscore'],
      why: 'closes due windows (deadline index), answers checks, drains the outbox',
    },
    {
      role: 'remediate',
      username: 'pushguard-remediate',
      keys: remediatorKeys,
      commands: [...CONNECT, ...REMEDIATOR],
      why: 'snapshots and compare-and-deletes stale registry / cache-layer keys, within budget',
    },
    {
      role: 'sweep',
      username: 'pushguard-sweep',
      // plus where the last sweep stopped (lambdas/adapters/redis-sweep-progress.ts)
      keys: [...remediatorKeys, `${prefix}sweep:*`],
      commands: [...CONNECT, ...REMEDIATOR],
      why: 'audits the registry cache (SCAN/SSCAN) and remediates what it finds, as remediate',
    },
  ];
}

/** The role's rules: an ElastiCache RBAC access string, and the body of ACL SETUSER. */
export function accessString(acl: RoleAcl): string {
  const keys = acl.keys.map((k) => `~${k}`).join(' ');
  const commands = acl.commands.map((c) => `+${c}`).join(' ');
  return `on ${keys} resetchannels -@all ${commands}`;
}

/** The line of a Redis ACL file (`user <name> <rules>`), password left to the operator. */
export function aclFileLine(acl: RoleAcl): string {
  return `user ${acl.username} ${accessString(acl)}`;
}
