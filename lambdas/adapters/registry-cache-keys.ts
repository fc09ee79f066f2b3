/**
 * Which keys RedisRegistryCache may touch and what a DB holds: every key it writes is rebuilt
 * from a validated repository name and sha256 digest (`rebuild`), and a DB is sniffed by the
 * kinds of keys a sample holds (`classifyDbKey`) before the first write.
 */
import { isSha256Digest, isValidRepositoryName } from '../domain/keys.ts';
import type { CacheKeyRef } from '../domain/remediation.ts';

export type KeyClass = 'registry' | 'core' | 'jobservice' | 'other';

const JOBSERVICE =
  /^\{[^}]*\}:|(^|:)(known_jobs|worker_pools?|jobs|job_stats|scheduled|retry|dead|periodic_jobs|period|lock|lock_info)(:|$)/;
const CORE = /^(cache|session|beegosession):|^[a-f0-9]{32}$/;

/** What kind of key a DB sample holds; exported for tests. */
export function classifyDbKey(key: string): KeyClass {
  if (key.startsWith('blobs::') || key.startsWith('repository::')) return 'registry';
  if (JOBSERVICE.test(key)) return 'jobservice';
  if (CORE.test(key)) return 'core';
  return 'other';
}

/**
 * The key rebuilt from the validated digest and repository it names, or undefined. A key that
 * does not rebuild to itself is refused, whatever isAllowListed said.
 */
export function rebuild(ref: CacheKeyRef): string | undefined {
  const k = ref.key;
  const tail = (prefix: string, suffix: string) =>
    k.startsWith(prefix) && k.endsWith(suffix) && k.length >= prefix.length + suffix.length
      ? k.slice(prefix.length, k.length - suffix.length)
      : undefined;
  if (ref.store === 'registry' && ref.type === 'set-member') {
    const repo = tail('repository::', '::blobs');
    return repo !== undefined && isValidRepositoryName(repo) && isSha256Digest(ref.member)
      ? `repository::${repo}::blobs`
      : undefined;
  }
  const digest = k.slice(-71);
  if (!isSha256Digest(digest)) return undefined;
  if (ref.store === 'registry' && ref.type === 'hash') {
    if (k === `blobs::${digest}`) return k;
    const repo = tail('repository::', `::blobs::${digest}`);
    return repo !== undefined && isValidRepositoryName(repo)
      ? `repository::${repo}::blobs::${digest}`
      : undefined;
  }
  if (ref.store === 'cache-layer' && ref.type === 'string') {
    if (k === `cache:manifest:digest:${digest}`) return k;
    const repo = tail('cache:artifact:repository:', `:digest:${digest}`);
    return repo !== undefined && isValidRepositoryName(repo)
      ? `cache:artifact:repository:${repo}:digest:${digest}`
      : undefined;
  }
  return undefined;
}
