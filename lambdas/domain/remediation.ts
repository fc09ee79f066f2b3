/**
 * Remediation planning, pure. Builds the exact, allow-listed cache keys for a finding from a
 * validated repository name and sha256 digest: no patterns, no wildcards, and an empty plan is a
 * no-op (never "everything").
 */
import { InvalidReferenceError } from './errors.ts';
import { assertRepositoryName, assertSha256Digest, blobDataKey } from './keys.ts';
import type { Finding } from './types.ts';

/** One key to clear. `set-member` means SREM of `member` from the set `key`. */
export interface CacheKeyRef {
  /** `registry` = the registry's blob-descriptor DB; `cache-layer` = Harbor core's cache layer DB. */
  store: 'registry' | 'cache-layer';
  key: string;
  type: 'hash' | 'set-member' | 'string';
  member?: string;
}

/** The full content of a key as seen when the plan was made (the compare of compare-and-delete). */
export interface KeySnapshot extends CacheKeyRef {
  /** hash: every field and value; string: base64 of the raw bytes; set-member: present. */
  hash?: Record<string, string>;
  /**
   * How `hash` field names and values are written: `utf8` (absent means utf8) when every one of
   * them is valid UTF-8, else `base64` for all of them. Either way restore is byte-identical.
   */
  encoding?: 'utf8' | 'base64';
  /** base64 of the raw value, for `string` keys (msgpack values of Harbor's cache layer). */
  valueBase64?: string;
  /** TTL in ms at snapshot time, -1 when none. */
  pttl: number;
}

export interface RemediationPlan {
  finding: Finding;
  /** Keys to clear, registry DB first. Empty: nothing to clear. */
  keys: CacheKeyRef[];
  /** Object keys that must be confirmed missing (twice, a settle delay apart) before any delete. */
  mustBeMissing: string[];
  /** The command that repairs storage once the keys are gone. */
  repushCommand?: string;
}

export interface RemediationRecord {
  id: string;
  /** ISO-8601 */
  at: string;
  mode: 'dry-run' | 'enforce';
  actor: string;
  version: string;
  reason: string;
  finding: Finding;
  /** Evidence of absence: each object key and the two check results. */
  storageEvidence: { key: string; checks: string[] }[];
  snapshots: KeySnapshot[];
  decision: 'delete' | 'dry-run' | 'skip' | 'over-cap' | 'restore';
  /** What is put back (decision `restore`): the source, the version id or URL, the verified digest. */
  restore?: {
    source: string;
    origin: string;
    key: string;
    verifiedDigest: string;
    size: number;
  };
}

const SHA256 = /^sha256:[a-f0-9]{64}$/;

/** How a key is named in reports: the key, or `<set> <member>` for a set member. */
export function cacheKeyLabel(ref: CacheKeyRef): string {
  return ref.type === 'set-member' ? `${ref.key} ${ref.member ?? ''}` : ref.key;
}

/** Registry DB keys for one (repository, digest), exactly as distribution v2.8 writes them. */
export function registryKeysFor(repository: string, digest: string): CacheKeyRef[] {
  assertRepositoryName(repository);
  assertSha256Digest(digest);
  return [
    { store: 'registry', key: `blobs::${digest}`, type: 'hash' },
    {
      store: 'registry',
      key: `repository::${repository}::blobs`,
      type: 'set-member',
      member: digest,
    },
    { store: 'registry', key: `repository::${repository}::blobs::${digest}`, type: 'hash' },
  ];
}

/** Harbor core cache-layer keys (msgpack strings) for one (repository, digest). */
export function cacheLayerKeysFor(repository: string, digest: string): CacheKeyRef[] {
  assertRepositoryName(repository);
  assertSha256Digest(digest);
  return [
    { store: 'cache-layer', key: `cache:manifest:digest:${digest}`, type: 'string' },
    {
      store: 'cache-layer',
      key: `cache:artifact:repository:${repository}:digest:${digest}`,
      type: 'string',
    },
  ];
}

/** True only for the exact key shapes PushGuard may ever delete. */
export function isAllowListed(ref: CacheKeyRef): boolean {
  const k = ref.key;
  if (ref.store === 'registry') {
    if (ref.type === 'hash') {
      const m =
        /^blobs::(sha256:[a-f0-9]{64})$/.exec(k) ??
        /^repository::(.+)::blobs::(sha256:[a-f0-9]{64})$/.exec(k);
      return m !== null && !/[*?[\]\\]/.test(k);
    }
    if (ref.type === 'set-member') {
      return /^repository::[^*?[\]\\]+::blobs$/.test(k) && SHA256.test(ref.member ?? '');
    }
    return false;
  }
  if (ref.type !== 'string' || /[*?[\]\\]/.test(k)) return false;
  return (
    /^cache:manifest:digest:sha256:[a-f0-9]{64}$/.test(k) ||
    /^cache:artifact:repository:.+:digest:sha256:[a-f0-9]{64}$/.test(k)
  );
}

/**
 * The re-push command shown to the owning team. `docker push` needs a tag; when the finding has
 * none, the command names the digest the tag must point at.
 */
export function repushCommand(registryHost: string, finding: Finding): string | undefined {
  if (finding.tag) return `docker push ${registryHost}/${finding.repository}:${finding.tag}`;
  if (!finding.digest || !finding.repository) return undefined;
  return `docker push ${registryHost}/${finding.repository}:<tag>   # any tag of ${finding.digest}`;
}

export interface PlanOptions {
  rootDirectory: string;
  registryHost: string;
  /** Also clear Harbor core's cache-layer keys. */
  cacheLayer: boolean;
}

/**
 * Plans what to clear for a finding. Only verified `manifest-data-missing` and `layer-data-missing`
 * findings clear keys; everything else plans no keys (ticket or notification only).
 */
export function planRemediation(finding: Finding, opts: PlanOptions): RemediationPlan {
  const base: RemediationPlan = {
    finding,
    keys: [],
    mustBeMissing: [],
    repushCommand: repushCommand(opts.registryHost, finding),
  };
  if (finding.kind === 'blob-data-removed') return planRemoval(base, opts);
  const clears = finding.kind === 'manifest-data-missing' || finding.kind === 'layer-data-missing';
  if (!clears || !finding.verified || finding.action !== 'clear-cache' || !finding.digest)
    return base;
  if (!SHA256.test(finding.digest)) {
    throw new InvalidReferenceError(
      'digest',
      finding.digest,
      'only sha256 digests are used to build Redis keys'
    );
  }
  const keys = registryKeysFor(finding.repository, finding.digest);
  if (opts.cacheLayer && finding.kind === 'manifest-data-missing') {
    keys.push(...cacheLayerKeysFor(finding.repository, finding.digest));
  }
  return { ...base, keys, mustBeMissing: [blobDataKey(opts.rootDirectory, finding.digest)] };
}

/**
 * Plans a `blob-data-removed` finding: `blobs::<d>` (what makes the registry skip a re-push of
 * the digest in every repository) and, with the cache layer on, Harbor's manifest-bytes entry.
 */
function planRemoval(base: RemediationPlan, opts: PlanOptions): RemediationPlan {
  const { digest } = base.finding;
  if (!base.finding.verified || base.finding.action !== 'clear-cache') return base;
  assertSha256Digest(digest);
  const keys: CacheKeyRef[] = [{ store: 'registry', key: `blobs::${digest}`, type: 'hash' }];
  if (opts.cacheLayer) {
    keys.push({ store: 'cache-layer', key: `cache:manifest:digest:${digest}`, type: 'string' });
  }
  return { ...base, keys, mustBeMissing: [blobDataKey(opts.rootDirectory, digest)] };
}

/**
 * Plans the clearing of one stale digest found by an audit sweep: `blobs::<d>` plus, for each
 * repository whose set lists it, the set member and the per-repository hash. A digest listed by no
 * repository set is a manifest (v2.8 caches manifests only in `blobs::`) and reports `manifest-data-missing`;
 * otherwise `layer-data-missing` for the first repository.
 */
export function planForStaleDigest(
  digest: string,
  repositories: readonly string[],
  opts: PlanOptions & { now: string; evidence: string[] }
): RemediationPlan {
  assertSha256Digest(digest);
  const repos = [...new Set(repositories)].sort();
  const keys: CacheKeyRef[] = [{ store: 'registry', key: `blobs::${digest}`, type: 'hash' }];
  for (const repo of repos) keys.push(...registryKeysFor(repo, digest).slice(1));
  const kind = repos.length === 0 ? 'manifest-data-missing' : 'layer-data-missing';
  if (opts.cacheLayer && kind === 'manifest-data-missing') {
    keys.push({ store: 'cache-layer', key: `cache:manifest:digest:${digest}`, type: 'string' });
  }
  const finding: Finding = {
    id: `${kind}|${repos[0] ?? ''}|${digest}`,
    kind,
    repository: repos[0] ?? '',
    digest,
    firstSeen: opts.now,
    lastSeen: opts.now,
    evidence: opts.evidence,
    verified: true,
    action: 'clear-cache',
  };
  return {
    finding,
    keys,
    mustBeMissing: [blobDataKey(opts.rootDirectory, digest)],
    repushCommand: repos[0] ? repushCommand(opts.registryHost, finding) : undefined,
  };
}
