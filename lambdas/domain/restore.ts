/**
 * Restore when still referenced (pure rules). Lost blob data is put back only when the bucket
 * itself, read at action time, says someone still needs it:
 *  - a manifest: its revision link in the repository, or the tag's current link naming it;
 *  - a layer or config: its layer link in the repository AND a linked manifest listing it.
 * The bytes must hash to the digest before anything is written (sources verify while staging).
 */
import {
  blobDataKey,
  isSha256Digest,
  isValidRepositoryName,
  isValidTag,
  layerLinkKey,
  revisionLinkKey,
  tagCurrentLinkKey,
} from './keys.ts';
import type { Finding } from './types.ts';

/** Revisions read at most to find a linked manifest listing a layer. */
export const MAX_REVISIONS_READ = 200;

export type RestoreTarget = {
  digest: string;
  repository: string;
  /** The object to put back. */
  key: string;
  manifest: boolean;
  /** Link objects that prove a reference, in the order they are read. */
  revisionLink: string;
  tagCurrentLink?: string;
  layerLink: string;
};

/** What a finding would restore, or undefined when it is not a restorable finding. */
export function restoreTarget(finding: Finding, root: string): RestoreTarget | undefined {
  const manifest = finding.kind === 'manifest-data-missing';
  if (!manifest && finding.kind !== 'layer-data-missing') return undefined;
  const { digest, repository } = finding;
  if (!finding.verified || !isSha256Digest(digest) || !isValidRepositoryName(repository)) {
    return undefined;
  }
  return {
    digest,
    repository,
    key: blobDataKey(root, digest),
    manifest,
    revisionLink: revisionLinkKey(root, repository, digest),
    ...(manifest && isValidTag(finding.tag)
      ? { tagCurrentLink: tagCurrentLinkKey(root, repository, finding.tag) }
      : {}),
    layerLink: layerLinkKey(root, repository, digest),
  };
}

/** A link object's content names `digest` (links hold `sha256:<hex>`, maybe with a newline). */
export function linksTo(content: string, digest: string): boolean {
  return content.trim() === digest;
}
