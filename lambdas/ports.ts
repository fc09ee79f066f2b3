/**
 * Ports: the narrow interfaces the use cases (lambdas/app) call. One adapter per port lives in
 * lambdas/adapters/. Sized to what is actually called; nothing here imports an SDK.
 */
import type { EngineOutput } from './domain/engine.ts';
import type { Notification, TicketRef } from './domain/notification.ts';
import type { CacheKeyRef, KeySnapshot, RemediationRecord } from './domain/remediation.ts';
import type { CheckResultEvent, Digest, Finding, NormalizedEvent } from './domain/types.ts';

export type { Notification, TicketRef };

/** `unknown` covers timeouts, throttling, 5xx and network errors: it is never `missing`. */
export type Presence = 'present' | 'missing' | 'unknown';

/** Reads the registry bucket. Only a 404/NotFound is `missing`. Never calls a registry HEAD. */
export interface StorageChecker {
  /** HeadObject of one full object key. */
  head(key: string): Promise<Presence>;
  /**
   * GetObject of a manifest's `blobs/.../data` and parse (Docker schema2, OCI manifest, OCI index,
   * Docker manifest list). `references` lists every blob and child manifest digest it names.
   */
  readManifest(
    key: string
  ): Promise<{ presence: Presence; references?: Digest[]; mediaType?: string }>;
}

/**
 * Pushes in progress: upload sessions recently written under a repository's `_uploads/`. The
 * remediator does not act on a repository while a push is writing to it.
 */
export interface UploadActivity {
  /** Upload sessions with an object written at or after `sinceMs`; `unknown` on any doubt. */
  recentUploads(repository: string, sinceMs: number): Promise<number | 'unknown'>;
}

/** An event the correlation engine takes: normalised from a message, or a storage answer. */
export type WindowEvent = NormalizedEvent | CheckResultEvent;

/** What a window store's apply returns: the engine's output, and the redeliveries it dropped. */
export interface ApplyOutput extends EngineOutput {
  /** Events dropped as redeliveries (already applied, or twice in the batch). */
  duplicates: number;
}

/** A batch handed to a window store part by part (RedisWindowStore reads each part at once). */
export interface StagedWindowBatch {
  add(events: readonly WindowEvent[]): void;
  /** What `store.apply(every part's events, now)` gives. */
  apply(now: number): Promise<ApplyOutput>;
}

/**
 * Correlation state kept atomically in Redis (or memory); runs the pure engine inside. Findings
 * wait in an outbox, written with the state that reported them, until published.
 */
export interface WindowStore {
  /** Applies events (deduplicated on their dedupeKey) and returns findings and checks. */
  apply(events: readonly WindowEvent[], now: number): Promise<ApplyOutput>;
  /** The same batch handed over part by part (ingest normalises a large batch in parts). */
  stage(now: number): StagedWindowBatch;
  /** Closes every window whose deadline is at or before `now`. */
  closeDue(now: number): Promise<EngineOutput>;
  /** Publishes the outbox page by page; an entry leaves it only once `publish` resolved. */
  drainOutbox(publish: (findings: Finding[]) => Promise<void>): Promise<Finding[]>;
}

/** The registry's Redis blob-descriptor cache (registry DB) or Harbor's cache layer. */
export interface RegistryCache {
  /** Throws SafetyRefusalError unless the DB looks like a registry cache (blobs::/repository:: keys, no job queue keys). */
  assertLooksLikeRegistryDb(): Promise<void>;
  /** Full content of each key that exists; absent keys are left out. */
  snapshot(refs: readonly CacheKeyRef[]): Promise<KeySnapshot[]>;
  /** Deletes (or SREMs) each key only if it still holds exactly the snapshot, in one Lua script per key. */
  compareAndDelete(
    snapshots: readonly KeySnapshot[]
  ): Promise<{ deleted: string[]; changed: string[] }>;
  /** Puts keys back byte for byte from an audit record. */
  restore(snapshots: readonly KeySnapshot[]): Promise<void>;
  /** SCAN (never KEYS) over `blobs::*` in pages; memory does not grow with the key count. */
  scanBlobDescriptors(count?: number): AsyncIterable<Digest[]>;
  /** One SCAN step of `blobs::*` from `cursor` ('0' starts; a returned '0' means done). */
  scanBlobDescriptorPage?(
    cursor: string,
    count?: number
  ): Promise<{ cursor: string; digests: Digest[] }>;
  /** SCAN over `repository::<repo>::blobs` sets, SSCAN of their members, page by page. */
  scanRepositoryBlobSets(count?: number): AsyncIterable<{ repository: string; digests: Digest[] }>;
}

/** Write-ahead audit log; refuses to overwrite an existing record. */
export interface AuditLog {
  write(record: RemediationRecord): Promise<string>;
  read(id: string): Promise<RemediationRecord>;
}

/** Jira Cloud or GitHub Issues: one open ticket per (repository, digest, kind). */
export interface TicketTracker {
  ensureTicket(input: { finding: Finding; title: string; body: string }): Promise<TicketRef>;
}

/** SNS topic or Slack; a failed notification never blocks or undoes a remediation. */
export interface Notifier {
  notify(notification: Notification): Promise<void>;
}

/** Where verified findings go to be remediated (SQS in AWS, in-process locally). */
export interface FindingPublisher {
  publish(findings: readonly Finding[]): Promise<void>;
}

/** Per-run and per-hour delete budget shared by every remediator instance. */
export interface DeleteBudget {
  /** Reserves up to `wanted` deletions; returns how many were granted. */
  reserve(wanted: number, now: number): Promise<number>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Bytes found for lost blob data, sha256-verified against the digest and staged, not yet written
 * where the registry reads them.
 */
export interface StagedRestore {
  /** `s3-versions`, `registry` or `cache-layer`. */
  source: string;
  /** The version id or URL the bytes came from. */
  origin: string;
  verifiedDigest: Digest;
  size: number;
  /** Writes the object with `If-None-Match: *`: `exists` when it reappeared (nothing overwritten). */
  commit(): Promise<'written' | 'exists'>;
  /** Drops what was staged (aborts a multipart upload). */
  discard(): Promise<void>;
}

/** One way to find lost bytes again: S3 object versions, a peer registry, Harbor's cache layer. */
export interface RestoreSource {
  readonly name: string;
  /** Finds and verifies the bytes of `digest` for `key`; `failed` says why not (never throws for "not here"). */
  stage(request: {
    digest: Digest;
    /** The full object key to restore (`[root/]docker/registry/v2/blobs/sha256/<hh>/<hex>/data`). */
    key: string;
    repository: string;
    /** The digest is a manifest (peer: GET /manifests/<digest>, cache layer: manifest bytes). */
    manifest: boolean;
  }): Promise<{ staged: StagedRestore } | { failed: string }>;
}

/** Reads what the bucket itself says references a digest, at action time. */
export interface ReferenceReader {
  /** The content of a link object (`sha256:<hex>`); `missing` on 404, `unknown` on any doubt. */
  readLink(key: string): Promise<string | 'missing' | 'unknown'>;
  /** Manifest digests with a revision link in `repository`, at most `limit`; `unknown` on doubt. */
  listRevisions(repository: string, limit: number): Promise<Digest[] | 'unknown'>;
}

/** Removals of blob data seen lately (across remediators): tells a garbage-collection sweep apart. */
export interface RemovalRate {
  /** Counts one removal at `now`; returns the removals counted in the minute up to `now`. */
  record(now: number): Promise<number>;
  /** The removals counted in the minute up to `now` (nothing counted). */
  current(now: number): Promise<number>;
}

/** Where the scheduled sweep stopped (a SCAN cursor of the registry DB), kept across runs. */
export interface SweepProgress {
  /** The cursor to resume from; undefined when no sweep is under way. */
  load(): Promise<string | undefined>;
  /** Saves the cursor ('0' when a whole pass is done: the next run starts over). */
  save(cursor: string): Promise<void>;
}

/** One notification rule of a bucket (S3 → SQS/SNS/Lambda). */
export interface BucketNotificationRule {
  id: string;
  target: string;
  events: string[];
  prefix: string;
  suffix: string;
}

/** Read-only AWS facts `pushguard preflight` checks a first deploy against. */
export interface PreflightAws {
  bucketNotifications(
    bucket: string
  ): Promise<{ rules: BucketNotificationRule[]; eventBridge: boolean }>;
  /** The account's API Gateway CloudWatch role, if set. */
  apiGatewayCloudWatchRole(): Promise<string | undefined>;
  concurrency(): Promise<{ limit: number; unreserved: number }>;
  /** The routes of each subnet's route table (explicit association, else the VPC's main one). */
  subnetRoutes(
    vpcId: string,
    subnetIds: readonly string[]
  ): Promise<
    { subnetId: string; routeTableId?: string; routes: { destination: string; target: string }[] }[]
  >;
  vpcEndpoints(
    vpcId: string
  ): Promise<{ service: string; type: string; privateDns: boolean; routeTableIds: string[] }[]>;
}
