/**
 * Rig for the remediator tests: real redis-server DBs (registry, cache layer, PushGuard state),
 * fauxqs S3 with the S3StorageChecker, a FileAuditLog in a temp dir, a fake clock whose sleeps can
 * run a hook (to change the world between the two storage checks), and in-test recorders for the
 * SaaS ports (TicketTracker, Notifier).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Redis, RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { FileAuditLog } from '../../lambdas/adapters/file-audit-log.ts';
import { RedisDeleteBudget } from '../../lambdas/adapters/redis-delete-budget.ts';
import { RedisRegistryCache } from '../../lambdas/adapters/redis-registry-cache.ts';
import { S3StorageChecker } from '../../lambdas/adapters/s3-storage-checker.ts';
import {
  createRemediator,
  type Remediator,
  type RemediatorConfig,
  type RemediatorDeps,
} from '../../lambdas/app/remediate.ts';
import type { Finding } from '../../lambdas/domain/types.ts';
import type {
  AuditLog,
  Clock,
  Notification,
  Notifier,
  StorageChecker,
  TicketRef,
  TicketTracker,
} from '../../lambdas/ports.ts';
import { startFauxqs, type TestAws } from '../support/fauxqs.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import { connectFailFast } from '../support/seed-registry-cache.ts';

export const ROOT = 'harbor';
export const STALE = 'sha256:8253b6d46b72820709392205cadf4f4e6219a47441d5406c3068e37d278ee09a';
export const LAYER = 'sha256:3a675ba150168bfe3bff53b39a3b926d510887d6379dc8da950cd142873f55ff';

export interface FakeClock extends Clock {
  /** Runs `hook` during the next sleep (after the time moved on). */
  onNextSleep(hook: (ms: number) => unknown): void;
  sleeps: number[];
}

export function fakeClock(start = Date.UTC(2026, 10, 25, 20, 0, 0)): FakeClock {
  let t = start;
  const hooks: ((ms: number) => unknown)[] = [];
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
      sleeps.push(ms);
      const h = hooks.shift();
      if (h) await h(ms);
    },
    onNextSleep: (hook) => {
      hooks.push(hook);
    },
    sleeps,
  };
}

export class RecordingTracker implements TicketTracker {
  readonly calls: { finding: Finding; title: string; body: string }[] = [];
  async ensureTicket(input: { finding: Finding; title: string; body: string }): Promise<TicketRef> {
    this.calls.push(input);
    const id = `PG-${this.calls.length}`;
    return { id, url: `https://tickets.example.invalid/${id}`, created: true };
  }
}

export class RecordingNotifier implements Notifier {
  readonly name = 'recording';
  readonly sent: Notification[] = [];
  async notify(n: Notification): Promise<void> {
    this.sent.push(n);
  }
}

export class FailingNotifier implements Notifier {
  readonly name = 'failing';
  calls = 0;
  async notify(): Promise<void> {
    this.calls++;
    throw Object.assign(new Error('webhook answered 500'), { retryable: false });
  }
}

export function finding(over: Partial<Finding> = {}): Finding {
  const digest = over.digest ?? STALE;
  const kind = over.kind ?? 'manifest-data-missing';
  const repository = over.repository ?? 'library/stale';
  return {
    id: `${kind}|${repository}|${digest}`,
    kind,
    repository,
    digest,
    tag: 'v1',
    firstSeen: '2026-11-25T19:55:36.000Z',
    lastSeen: '2026-11-25T19:55:38.000Z',
    evidence: [`blobs::${digest} cached; ${ROOT}/docker/registry/v2/blobs/… 404`],
    verified: true,
    action: 'clear-cache',
    ...over,
  };
}

export interface Rig {
  registry: Redis;
  core: Redis;
  state: Redis;
  bucket: string;
  auditDir: string;
  clock: FakeClock;
  tickets: RecordingTracker;
  notifier: RecordingNotifier;
  deps: RemediatorDeps;
  remediator: Remediator;
  /** Audit record files written so far. */
  auditFiles(): Promise<string[]>;
  putObject(key: string, body?: string): Promise<void>;
  close(): Promise<void>;
}

let bucketSeq = 0;

export type RigDbs = { registry: number; core: number; state: number };
export type RigOptions = Parameters<typeof makeRig>[0];

/**
 * A test file's rig services: one fauxqs and three Redis DBs for the whole file (its hooks are
 * registered here), and every rig a test opens closed after that test.
 */
export function rigSuite() {
  let aws: TestAws | undefined;
  let dbs: RigDbs | undefined;
  let opened: Rig[] = [];
  beforeAll(async () => {
    aws = await startFauxqs();
    const [registry, core, state] = (await allocateDbs(3)) as [number, number, number];
    dbs = { registry, core, state };
  });
  afterAll(async () => {
    await aws?.stop();
  });
  afterEach(async () => {
    for (const rig of opened) await rig.close();
    opened = [];
  });
  const started = () => {
    if (!aws || !dbs) throw new Error('rigSuite: used before its beforeAll ran');
    return { aws, dbs };
  };
  return {
    get aws(): TestAws {
      return started().aws;
    },
    get dbs(): RigDbs {
      return started().dbs;
    },
    /** A rig on the file's fauxqs and DBs, closed after the test. */
    async rig(opts: Omit<RigOptions, 's3' | 'dbs'> = {}): Promise<Rig> {
      const { aws, dbs } = started();
      const rig = await makeRig({ s3: aws.s3, dbs, ...opts });
      opened.push(rig);
      return rig;
    },
  };
}

export async function makeRig(opts: {
  s3: S3Client;
  dbs: RigDbs;
  config?: Partial<RemediatorConfig>;
  perHour?: number;
  checker?: StorageChecker;
  audit?: AuditLog;
  notifiers?: Notifier[];
  /** Client options of every connection (e.g. an ACL user's username and password). */
  redisOptions?: RedisOptions;
}): Promise<Rig> {
  const registry = await connectFailFast(redisUrl(), opts.dbs.registry, opts.redisOptions);
  const core = await connectFailFast(redisUrl(), opts.dbs.core, opts.redisOptions);
  const state = await connectFailFast(redisUrl(), opts.dbs.state, opts.redisOptions);
  const bucket = `registry-${process.pid}-${++bucketSeq}`;
  await opts.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const auditDir = await mkdtemp(join(tmpdir(), 'pushguard-remediate-'));
  const clock = fakeClock();
  const tickets = new RecordingTracker();
  const notifier = new RecordingNotifier();
  const config: RemediatorConfig = {
    mode: 'enforce',
    settleMs: 5000,
    maxKeysPerFinding: 10,
    maxDeletesPerRun: 100,
    rootDirectory: ROOT,
    registryHost: 'harbor.example.com',
    actor: 'test@pushguard',
    version: '0.1.0-test',
    cacheLayer: true,
    ...opts.config,
  };
  const deps: RemediatorDeps = {
    checker: opts.checker ?? new S3StorageChecker({ bucket, client: opts.s3, timeoutMs: 5000 }),
    registryCache: new RedisRegistryCache(registry, { store: 'registry' }),
    cacheLayer: new RedisRegistryCache(core, { store: 'cache-layer' }),
    audit: opts.audit ?? new FileAuditLog(auditDir),
    budget: new RedisDeleteBudget(state, { perHour: opts.perHour ?? 10_000 }),
    tickets,
    notifiers: opts.notifiers ?? [notifier],
    clock,
    config,
  };
  return {
    registry,
    core,
    state,
    bucket,
    auditDir,
    clock,
    tickets,
    notifier,
    deps,
    remediator: createRemediator(deps),
    auditFiles: async () => (await readdir(auditDir)).sort(),
    putObject: async (key, body = 'data') => {
      await opts.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    close: async () => {
      for (const c of [registry, core, state]) c.disconnect();
      await rm(auditDir, { recursive: true, force: true });
    },
  };
}
