/**
 * The parsed options of each command: written by commands/<name>.ts (commander), read by
 * actions/<name>.ts. Kept apart so actions never import commands (no import cycle).
 */

/** --fix settings of `pushguard audit` (the remediator's rules). */
export interface FixOptions {
  registryHost: string;
  /** Keys deleted at most in this run. */
  maxDeletes: number;
  maxDeletesPerHour: number;
  /** PushGuard's state Redis: the hourly budget shared with the deployed remediators. */
  stateRedis?: string;
  maxKeysPerFinding: number;
  settleMs: number;
  auditDir: string;
  actor: string;
}

export interface AuditCliOptions extends FixOptions {
  s3: { bucket: string; rootDirectory: string };
  endpoint?: string;
  region: string;
  redis: string;
  cacheLayerRedis?: string;
  fix?: boolean;
  json?: boolean;
  concurrency: number;
  timeoutMs: number;
}

export interface LocalCliOptions {
  s3Port: number;
  webhookPort: number;
  redis?: string;
  registryDb: number;
  stateDb: number;
  bucket: string;
  rootDirectory: string;
  window: number;
  settle: number;
  enforce?: boolean;
  json?: boolean;
  auditDir: string;
  dataDir: string;
  ephemeral?: boolean;
  webhookSecret: string[];
  visibilityTimeout: number;
  registryHost: string;
  restoreFrom: string[];
}

export interface PreflightOptions {
  /** A JSON file with the `pushguard` object; default: cdk.json's context.pushguard. */
  config?: string;
  region?: string;
  json?: boolean;
}

export interface ReplayCliOptions {
  window: number;
  rootDirectory?: string;
  now?: number;
  json?: boolean;
  skipInvalid?: boolean;
}

export interface RestoreOptions {
  redis: string;
  cacheLayerRedis?: string;
  force?: boolean;
}
