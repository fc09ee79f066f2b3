/**
 * Lambda configuration: parsed ONCE per cold start from the environment the CDK stack sets
 * (lib/stacks/pipeline-stack.ts). Each function reads only the sections it needs; a missing or
 * invalid variable fails init with ONE ConfigError listing every problem. Secrets are ARNs here,
 * never values.
 */
import * as z from 'zod';
import { ConfigError } from './domain/errors.ts';
import { restoreSourceSchema } from './restore-source-schema.ts';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const secretArn = z.string().regex(/^arn:aws[a-z-]*:secretsmanager:/, 'must be a secret ARN');
/** SQS queue URL (emulators use hosts like `sqs.us-east-1.127.0.0.1`, so no strict URL check). */
/** `[{"type":"s3-versions"},{"type":"registry","url":…,"credentialsSecretArn":…},{"type":"cache-layer"}]` */
export const RestoreSourceConfig = restoreSourceSchema(secretArn);
const restoreSources = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(RestoreSourceConfig).min(1));
const queueUrl = z.string().regex(/^https?:\/\/[^\s/]+\/\S+$/, 'must be an SQS queue URL');
const csvArns = z
  .string()
  .transform((s) => s.split(',').filter((x) => x.trim() !== ''))
  .pipe(z.array(secretArn).min(1, 'needs at least one secret ARN'));

/** Each section: its env variables (zod shape) and how they become a typed value. */
const SECTIONS = {
  redis: z
    .object({
      REDIS_HOST: z.string().min(1),
      REDIS_PORT: int(1, 65535).default(6379),
      REDIS_TLS: bool.default(true),
      REDIS_AUTH_SECRET_ARN: secretArn.optional(),
      REDIS_USERNAME: z.string().min(1).max(128).optional(),
      REDIS_STATE_DB: int(0, 255),
    })
    .transform((e) => ({
      host: e.REDIS_HOST,
      port: e.REDIS_PORT,
      tls: e.REDIS_TLS,
      authSecretArn: e.REDIS_AUTH_SECRET_ARN,
      username: e.REDIS_USERNAME,
      stateDb: e.REDIS_STATE_DB,
    })),
  registry: z
    .object({
      REGISTRY_BUCKET: z.string().min(3),
      REGISTRY_ROOT_DIRECTORY: z.string().default(''),
    })
    .transform((e) => ({ bucket: e.REGISTRY_BUCKET, rootDirectory: e.REGISTRY_ROOT_DIRECTORY })),
  /** The registry's Redis DB: only the functions that clear its keys read it. */
  registryDb: z.object({ REGISTRY_DB: int(0, 255) }).transform((e) => e.REGISTRY_DB),
  window: z
    .object({ WINDOW_SECONDS: int(1, 7200) })
    .transform((e) => ({ windowMs: e.WINDOW_SECONDS * 1000 })),
  eventsQueue: z.object({ EVENTS_QUEUE_URL: queueUrl }).transform((e) => e.EVENTS_QUEUE_URL),
  findingsQueue: z.object({ FINDINGS_QUEUE_URL: queueUrl }).transform((e) => e.FINDINGS_QUEUE_URL),
  findingsTopic: z
    .object({ FINDINGS_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:/) })
    .transform((e) => e.FINDINGS_TOPIC_ARN),
  auditBucket: z.object({ AUDIT_BUCKET: z.string().min(3) }).transform((e) => e.AUDIT_BUCKET),
  webhook: z
    .object({ WEBHOOK_SECRET_ARNS: csvArns })
    .transform((e) => ({ secretArns: e.WEBHOOK_SECRET_ARNS })),
  remediation: z
    .object({
      PUSHGUARD_MODE: z.enum(['dry-run', 'enforce']).default('dry-run'),
      HARBOR_HOST: z.string().min(1),
      CACHE_LAYER_DB: int(0, 255).optional(),
      SETTLE_SECONDS: int(0, 60).default(5),
      CAP_PER_RUN: int(0, 10_000).default(20),
      CAP_PER_HOUR: int(0, 100_000).default(100),
      CAP_PER_FINDING: int(1, 10_000).default(10),
      /** Restore sources in order (JSON); absent: restore off (lib/ sets it only when enabled). */
      RESTORE_SOURCES: restoreSources.optional(),
    })
    .transform((e) => ({
      mode: e.PUSHGUARD_MODE,
      harborHost: e.HARBOR_HOST,
      cacheLayerDb: e.CACHE_LAYER_DB,
      settleMs: e.SETTLE_SECONDS * 1000,
      caps: { perRun: e.CAP_PER_RUN, perHour: e.CAP_PER_HOUR, perFinding: e.CAP_PER_FINDING },
      restoreSources: e.RESTORE_SOURCES ?? [],
    })),
  /** Optional integrations: each is present only when its variables are set. */
  integrations: z
    .object({
      SLACK_WEBHOOK_SECRET_ARN: secretArn.optional(),
      SLACK_CHANNEL: z.string().optional(),
      JIRA_BASE_URL: z.url().optional(),
      JIRA_PROJECT_KEY: z.string().optional(),
      JIRA_EMAIL: z.email().optional(),
      JIRA_TOKEN_SECRET_ARN: secretArn.optional(),
      GITHUB_REPOSITORY: z
        .string()
        .regex(/^[\w.-]+\/[\w.-]+$/)
        .optional(),
      GITHUB_TOKEN_SECRET_ARN: secretArn.optional(),
    })
    .superRefine((e, ctx) => {
      const jira = [e.JIRA_BASE_URL, e.JIRA_PROJECT_KEY, e.JIRA_EMAIL, e.JIRA_TOKEN_SECRET_ARN];
      if (jira.some(Boolean) && !jira.every(Boolean)) {
        ctx.addIssue({
          code: 'custom',
          path: ['JIRA_*'],
          message: 'set all of JIRA_BASE_URL, JIRA_PROJECT_KEY, JIRA_EMAIL, JIRA_TOKEN_SECRET_ARN',
        });
      }
      if (Boolean(e.GITHUB_REPOSITORY) !== Boolean(e.GITHUB_TOKEN_SECRET_ARN)) {
        ctx.addIssue({
          code: 'custom',
          path: ['GITHUB_*'],
          message: 'set both GITHUB_REPOSITORY and GITHUB_TOKEN_SECRET_ARN',
        });
      }
    })
    .transform((e) => ({
      slack: e.SLACK_WEBHOOK_SECRET_ARN
        ? { webhookSecretArn: e.SLACK_WEBHOOK_SECRET_ARN, channel: e.SLACK_CHANNEL }
        : undefined,
      jira: e.JIRA_TOKEN_SECRET_ARN
        ? {
            baseUrl: e.JIRA_BASE_URL!,
            projectKey: e.JIRA_PROJECT_KEY!,
            email: e.JIRA_EMAIL!,
            tokenSecretArn: e.JIRA_TOKEN_SECRET_ARN,
          }
        : undefined,
      github: e.GITHUB_TOKEN_SECRET_ARN
        ? { repository: e.GITHUB_REPOSITORY!, tokenSecretArn: e.GITHUB_TOKEN_SECRET_ARN }
        : undefined,
    })),
} as const;

type Sections = { [K in keyof typeof SECTIONS]: z.output<(typeof SECTIONS)[K]> };
export type SectionName = keyof Sections;

// remediate and sweep run the same remediator, so they need the same sections.
const REMEDIATOR_NEEDS = [
  'redis',
  'registry',
  'registryDb',
  'remediation',
  'auditBucket',
  'findingsTopic',
  'integrations',
] as const satisfies readonly SectionName[];

/** What each function needs. */
export const NEEDS = {
  webhook: ['redis', 'eventsQueue', 'webhook'],
  's3-events': ['redis', 'registry', 'window', 'findingsQueue'],
  'window-check': ['redis', 'registry', 'window', 'findingsQueue'],
  remediate: REMEDIATOR_NEEDS,
  sweep: REMEDIATOR_NEEDS,
  notify: ['integrations'],
} as const satisfies Record<string, readonly SectionName[]>;

export type FunctionName = keyof typeof NEEDS;
export type ConfigFor<F extends FunctionName> = Pick<Sections, (typeof NEEDS)[F][number]>;

export type Env = Readonly<Record<string, string | undefined>>;

/** Parses the sections `fn` needs from `env`; throws ConfigError listing every problem. */
export function loadConfig<F extends FunctionName>(fn: F, env: Env = process.env): ConfigFor<F> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const name of NEEDS[fn] as readonly SectionName[]) {
    const r = SECTIONS[name].safeParse(env);
    if (r.success) out[name] = r.data;
    else for (const i of r.error.issues) problems.push(`${i.path.join('.')}: ${i.message}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigFor<F>;
}

/** `redis[s]://host:port/db` for a DB of the configured Redis (the password is passed apart). */
export function redisUrl(redis: Sections['redis'], db: number): string {
  return `${redis.tls ? 'rediss' : 'redis'}://${redis.host}:${redis.port}/${db}`;
}
