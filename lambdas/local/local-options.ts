/** What `pushguard local` is started with (the CLI maps its flags onto this), and its checks. */
import { ConfigError } from '../domain/errors.ts';

export interface LocalOptions {
  /** 0 picks a free port. */
  s3Port: number;
  webhookPort: number;
  /** Redis base URL; REDIS_URL or 127.0.0.1:6379 when absent. */
  redisUrl?: string;
  registryDb: number;
  stateDb: number;
  bucket: string;
  rootDirectory: string;
  windowMs: number;
  /** Delay between the two storage checks before a delete. */
  settleMs: number;
  enforce: boolean;
  auditDir: string;
  /** Where the emulator keeps its buckets; in memory when absent (the CLI's `--ephemeral`). */
  dataDir?: string;
  /** Accepted Authorization header values; one is generated when empty. */
  webhookSecrets: string[];
  /** @default 'us-east-1' */
  region?: string;
  /** Visibility timeout of both queues, seconds. @default 30 */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message goes to its DLQ. @default 5 */
  maxReceiveCount?: number;
  /** @default 1000 */
  windowCheckIntervalMs?: number;
  /** `host[:port]` of the registry, for the re-push command. @default 'localhost:5000' */
  registryHost?: string;
  /** Restore sources in order: `s3-versions` or a peer registry URL (lambdas/local/remediation.ts). */
  restoreFrom?: string[];
}

/** Access key and secret the emulator accepts (it does not check signatures). */
export const LOCAL_CREDENTIALS = {
  accessKeyId: 'pushguard',
  secretAccessKey: 'pushguard-local-secret',
};

export function validateLocalOptions(o: LocalOptions): void {
  const problems: string[] = [];
  const db = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > 255) problems.push(`${name} must be 0..255`);
  };
  const port = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > 65535) problems.push(`${name} must be 0..65535`);
  };
  db('--registry-db', o.registryDb);
  db('--state-db', o.stateDb);
  port('--s3-port', o.s3Port);
  port('--webhook-port', o.webhookPort);
  if (o.registryDb === o.stateDb) {
    problems.push(
      '--state-db must differ from --registry-db (PushGuard never writes its state there)'
    );
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket)) {
    problems.push(`--bucket ${JSON.stringify(o.bucket)} is not a valid S3 bucket name`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
