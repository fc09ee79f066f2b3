/**
 * The shared vocabulary of PushGuard: storage keys, normalised events, checks and findings.
 * Pure data types only; everything here is JSON-serialisable.
 */

/** `algorithm:hex`, validated. Only `sha256:` + 64 lowercase hex is ever used to build Redis keys. */
export type Digest = string;

/** What a key under `[root/]docker/registry/v2/` is. */
export type StorageKey =
  | { kind: 'blob-data'; root: string; digest: Digest }
  | { kind: 'upload-data'; root: string; repository: string; uploadId: string }
  | { kind: 'upload-startedat'; root: string; repository: string; uploadId: string }
  | {
      kind: 'upload-hashstate';
      root: string;
      repository: string;
      uploadId: string;
      algorithm: string;
      offset: number;
    }
  | { kind: 'layer-link'; root: string; repository: string; digest: Digest }
  | { kind: 'revision-link'; root: string; repository: string; digest: Digest }
  | { kind: 'tag-current-link'; root: string; repository: string; tag: string }
  | { kind: 'tag-index-link'; root: string; repository: string; tag: string; digest: Digest }
  | { kind: 'unrelated'; key: string; reason: string };

export type StorageKeyKind = StorageKey['kind'];

/** An object was created or removed in the registry bucket (S3 notification or EventBridge). */
export interface StorageEvent {
  source: 'storage';
  op: 'created' | 'removed';
  /** e.g. `ObjectCreated:Put`, `ObjectRemoved:Delete`, `LifecycleExpiration:Delete`. */
  eventName: string;
  bucket: string;
  /** Decoded object key. */
  key: string;
  storageKey: StorageKey;
  size?: number;
  eTag?: string;
  versionId?: string;
  /** Hex; orders events for the same key only. */
  sequencer?: string;
  /** Epoch milliseconds, when storage finished the request. */
  time: number;
  /** Stable identity of this event: redeliveries share it. */
  dedupeKey: string;
}

export type HarborEventType =
  | 'PUSH_ARTIFACT'
  | 'DELETE_ARTIFACT'
  | 'QUOTA_EXCEED'
  | 'QUOTA_WARNING'
  | 'PULL_ARTIFACT'
  | 'SCANNING_FAILED'
  | 'SCANNING_STOPPED'
  | 'SCANNING_COMPLETED'
  | 'REPLICATION'
  | 'TAG_RETENTION'
  | 'UPLOAD_CHART'
  | 'DELETE_CHART'
  | 'DOWNLOAD_CHART';

/** One artifact of a Harbor webhook acted on (PUSH_ARTIFACT, DELETE_ARTIFACT, QUOTA_*). */
export interface WebhookEvent {
  source: 'harbor';
  type: HarborEventType;
  format: 'default' | 'cloudevents';
  /** `project/name...` */
  repository: string;
  project: string;
  digest?: Digest;
  tag?: string;
  operator: string;
  /** Epoch milliseconds (occur_at). */
  time: number;
  dedupeKey: string;
  /** Free text, e.g. QUOTA details. */
  details?: string;
}

/** The answer of a storage check, fed back into the engine. `unknown` is never `missing`. */
export interface CheckResultEvent {
  source: 'check';
  check: Check;
  presence: 'present' | 'missing' | 'unknown';
  /** For manifest checks: digests the manifest references (layers, config, child manifests). */
  references?: Digest[];
  time: number;
}

export type NormalizedEvent = StorageEvent | WebhookEvent;

/** A question the engine needs storage to answer. Keys are full object keys (root included). */
export type Check =
  | { type: 'blob-data'; digest: Digest; key: string; repository?: string }
  | { type: 'manifest'; digest: Digest; key: string; repository: string }
  | { type: 'revision-link'; repository: string; digest: Digest; key: string };

export type FindingKind =
  | 'incomplete-push'
  | 'manifest-data-missing'
  | 'layer-data-missing'
  | 'webhook-without-commit'
  | 'abandoned-upload'
  | 'blob-data-removed';

export type SuggestedAction = 'clear-cache' | 'open-ticket' | 'notify';

export interface Finding {
  kind: FindingKind;
  repository: string;
  digest?: Digest;
  tag?: string;
  /** ISO-8601 */
  firstSeen: string;
  /** ISO-8601 */
  lastSeen: string;
  /** Keys and events that justify the finding, human-readable, most significant first. */
  evidence: string[];
  verified: boolean;
  action: SuggestedAction;
  /** Upload session id for abandoned-upload. */
  uploadId?: string;
  /** Stable identity: one finding per (kind, repository, digest|uploadId). */
  id: string;
}
