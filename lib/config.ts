/**
 * Deployment configuration: the `pushguard` object of cdk.json context (or `-c pushguard=...`).
 * Parsed once in bin/app.ts; an invalid configuration fails synth with ONE error listing every
 * problem (ConfigError). Defaults are secure: dry-run, WAF on, TLS to Redis on.
 */
import { z } from 'zod';
import { ConfigError } from '../lambdas/domain/errors.ts';
import { restoreSourceSchema } from '../lambdas/restore-source-schema.ts';

const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
/** S3 bucket naming rules (general purpose buckets). */
const BUCKET_NAME = /^(?!xn--)(?!sthree-)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** EventBridge Scheduler cron: six fields inside `cron(...)`. */
const SCHEDULER_CRON = /^cron\(\s*\S+(\s+\S+){5}\s*\)$/;

const secretArn = z
  .string()
  .regex(SECRET_ARN, 'must be a complete Secrets Manager secret ARN (ending in -XXXXXX)');

const dbIndex = z.number().int().min(0).max(255);

export const pushGuardConfigSchema = z.object({
  /** Name of the EXISTING registry bucket (imported, never modified except its notifications). */
  registryBucketName: z.string().regex(BUCKET_NAME, 'must be a valid S3 bucket name'),
  /** Registry `storage.s3.rootdirectory`, without leading or trailing `/`; '' for none. */
  rootDirectory: z
    .string()
    .regex(/^([A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)?$/, 'must be like "a/b" (no leading/trailing /)')
    .default(''),
  /** Redis DB of the registry's blob-descriptor cache: 1 with the installer, 2 with Helm. */
  registryDb: dbIndex,
  /** Harbor core's cache-layer DB (0 on 2.7; `cache_layer_db_index` on ≥ 2.9), if enabled. */
  cacheLayerDb: dbIndex.optional(),
  /** Harbor's external host, for the re-push command in tickets (e.g. harbor.example.com). */
  harborHost: z
    .string()
    .regex(/^[a-z0-9.-]+(:\d+)?$/i, 'must be a host name, without scheme or path'),
  redis: z.object({
    host: z.string().min(1, 'is required'),
    port: z.number().int().min(1).max(65535).default(6379),
    /** PushGuard's own DB (windows, dedupe, budgets); never the registry DB. */
    db: dbIndex,
    tls: z.boolean().default(true),
    /** Secret holding the AUTH password (plain string or JSON `{ "password": ... }`). */
    authSecretArn: secretArn.optional(),
    /**
     * Create one ElastiCache RBAC user per role (lib/constructs/redis-acl-users.ts) and connect
     * each function as its role's user (the group still has to be attached to the cache).
     */
    aclUsers: z.boolean().default(false),
  }),
  /** Correlation window; 1 s .. 2 h (below Harbor GC's 2 h). */
  windowMinutes: z
    .number()
    .min(1 / 60, 'must be at least 1 second (1/60)')
    .max(120, 'must be at most 120 (Harbor GC keeps 2 h)')
    .refine((m) => Number.isInteger(Math.round(m * 60 * 1000) / 1000), 'must be whole seconds')
    .default(15),
  mode: z.enum(['dry-run', 'enforce']).default('dry-run'),
  /** Delay between the two storage checks made before any delete. */
  settleSeconds: z.number().int().min(0).max(60).default(5),
  caps: z
    .object({
      perRun: z.number().int().min(0).max(10_000).default(20),
      perHour: z.number().int().min(0).max(100_000).default(100),
      /** Keys cleared at most for one finding (one repository and digest). */
      perFinding: z.number().int().min(1).max(10_000).default(10),
    })
    .prefault({}),
  /**
   * Put lost data back when the bucket still references it (enforce only): sources tried in
   * order. Grants the remediate function PutObject on `<root>/docker/registry/v2/blobs/*`,
   * GetObjectVersion and ListBucketVersions; nothing when off.
   */
  restore: z
    .object({
      enabled: z.boolean().default(false),
      sources: z.array(restoreSourceSchema(secretArn)).min(1, 'needs at least one source'),
    })
    .optional(),
  vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id (vpc-...)'),
  subnetIds: z
    .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id (subnet-...)'))
    .min(1, 'needs at least one private subnet'),
  /** Use this existing security group for the functions instead of creating one. */
  securityGroupId: z
    .string()
    .regex(/^sg-[0-9a-f]{8,17}$/)
    .optional(),
  /** CIDR of the Redis endpoint(s): the created security group allows egress to it on the port. */
  redisCidr: z.cidrv4().optional(),
  /** Or the Redis security group: egress to it on the Redis port. */
  redisSecurityGroupId: z
    .string()
    .regex(/^sg-[0-9a-f]{8,17}$/)
    .optional(),
  webhook: z.object({
    /** Current `Authorization` header value Harbor sends. */
    secretArn,
    /** Previous value, still accepted while rotating. */
    previousSecretArn: secretArn.optional(),
    rateLimit: z.number().min(1).max(10_000).default(20),
    burstLimit: z.number().int().min(1).max(5_000).default(40),
    /** WAF rate-based rule: requests per IP per 5 minutes. */
    wafRateLimit: z.number().int().min(10).max(2_000_000_000).default(300),
    /**
     * Reserved concurrency of the webhook function; unset: none (reserving fails the deploy in
     * accounts whose concurrency quota leaves less than 10 unreserved).
     */
    reservedConcurrency: z.number().int().min(1).max(1000).optional(),
  }),
  /**
   * API Gateway stage access logs. They need the account's API Gateway CloudWatch role (one per
   * account and region): `off` (default; synth warns), `existing-account-role` (the role is set
   * already: `pushguard preflight` checks), `manage-account-role` (this stack sets it; it then
   * replaces whatever role the account had).
   */
  apiAccessLogs: z.enum(['off', 'existing-account-role', 'manage-account-role']).default('off'),
  /**
   * How the VPC functions (all but notify) reach AWS APIs and the internet:
   * - `nat` (default): the subnets already route 0.0.0.0/0 to a NAT gateway (AWS APIs, Jira, GitHub);
   * - `vpc-endpoints`: the stack creates endpoints for S3 (gateway, on `routeTableIds`), SQS, SNS
   *   and Secrets Manager (interface); there is no internet path, so Jira and GitHub must be off.
   */
  egress: z
    .object({
      mode: z.enum(['nat', 'vpc-endpoints']).default('nat'),
      /** Route tables of the subnets, for the S3 gateway endpoint (vpc-endpoints only). */
      routeTableIds: z
        .array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, 'must be rtb-...'))
        .optional(),
    })
    .prefault({}),
  slack: z.object({ webhookSecretArn: secretArn, channel: z.string().optional() }).optional(),
  jira: z
    .object({
      baseUrl: z.url({ protocol: /^https$/ }),
      projectKey: z.string().regex(/^[A-Z][A-Z0-9_]+$/, 'must be a Jira project key'),
      email: z.email(),
      tokenSecretArn: secretArn,
    })
    .optional(),
  github: z
    .object({
      repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name'),
      tokenSecretArn: secretArn,
    })
    .optional(),
  /** EventBridge Scheduler cron for the Redis-vs-S3 sweep (UTC). */
  sweepCron: z
    .string()
    .regex(SCHEDULER_CRON, 'must be a Scheduler cron like "cron(0 3 * * ? *)"')
    .default('cron(0 3 * * ? *)'),
  alarmEmail: z.email().optional(),
  /** Route the bucket's events through EventBridge instead of S3 → SQS notifications. */
  useEventBridge: z.boolean().default(false),
  /** Attach a WAF WebACL (rate-based rule, 64 KB body cap) to the webhook stage. */
  enableWaf: z.boolean().default(true),
  logRetentionDays: z
    .union([z.literal(7), z.literal(14), z.literal(30), z.literal(90), z.literal(365)])
    .default(30),
  /** Object Lock (governance) retention of audit records, in days. */
  auditRetentionDays: z.number().int().min(1).max(3650).default(365),
});

export type PushGuardConfig = z.infer<typeof pushGuardConfigSchema>;
export type PushGuardConfigInput = z.input<typeof pushGuardConfigSchema>;

/** Problems the schema cannot see: relations between fields. */
function crossFieldProblems(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const redis = (raw.redis ?? {}) as Record<string, unknown>;
  if (typeof redis.db === 'number' && redis.db === raw.registryDb) {
    problems.push('redis.db: must differ from registryDb (PushGuard never writes state there)');
  }
  if (typeof redis.db === 'number' && redis.db === raw.cacheLayerDb) {
    problems.push('redis.db: must differ from cacheLayerDb');
  }
  const egress = (raw.egress ?? {}) as Record<string, unknown>;
  if (egress.mode === 'vpc-endpoints') {
    for (const tool of ['jira', 'github'] as const) {
      if (raw[tool]) {
        problems.push(
          `${tool}: egress.mode "vpc-endpoints" gives the VPC functions no internet path, so ` +
            `remediate and sweep could never reach ${tool === 'jira' ? 'Jira' : 'GitHub'}; ` +
            `remove ${tool}, or use egress.mode "nat" (subnets with a NAT gateway)`
        );
      }
    }
    const tables = egress.routeTableIds;
    if (!Array.isArray(tables) || tables.length === 0) {
      problems.push(
        'egress.routeTableIds: egress.mode "vpc-endpoints" needs the subnets\' route tables ' +
          '(the S3 gateway endpoint is added to them)'
      );
    }
  }
  if (!raw.securityGroupId && !raw.redisCidr && !raw.redisSecurityGroupId) {
    problems.push('redisCidr: set redisCidr or redisSecurityGroupId (or securityGroupId)');
  }
  return problems;
}

/** Parses the `pushguard` context object; throws ConfigError listing every problem. */
export function parsePushGuardConfig(raw: unknown): PushGuardConfig {
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(['pushguard: context object is missing (see cdk.json)']);
  }
  const result = pushGuardConfigSchema.safeParse(raw);
  const problems = result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  problems.push(...crossFieldProblems(raw as Record<string, unknown>));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

/** `[root/]docker/registry/v2/`: the only prefix PushGuard reads or listens to. */
export function registryPrefix(config: Pick<PushGuardConfig, 'rootDirectory'>): string {
  return `${config.rootDirectory ? `${config.rootDirectory}/` : ''}docker/registry/v2/`;
}

/** Function timeouts in seconds; queue visibility timeouts are derived from them (≥ 6×). */
export const FUNCTION_TIMEOUT_SECONDS = {
  webhook: 10,
  's3-events': 60,
  'window-check': 60,
  remediate: 120,
  sweep: 900,
  notify: 30,
} as const;
