/**
 * What the engine learns from the answer to one of its storage checks. `unknown` never counts as
 * missing: the question is asked again at the deadline.
 */
import type { EngineConfig, EngineOutput } from './engine-config.ts';
import {
  reportDigest,
  reportMissingData,
  webhookFinding,
  writtenWithin,
} from './engine-findings.ts';
import {
  type BlobFact,
  type EngineState,
  type Evidence,
  factOf,
  iso,
  pushEvidence,
  renderEvidence,
} from './engine-state.ts';
import { blobDataKey } from './keys.ts';
import { removalFinding } from './removal.ts';
import type { Check, CheckResultEvent } from './types.ts';

/** What every step of one check answer is given. */
interface Answer {
  state: EngineState;
  e: CheckResultEvent;
  line: Evidence;
  now: number;
  cfg: EngineConfig;
  out: EngineOutput;
}

/** The blob data key of `digest` next to another blob data key (same root). */
function siblingKey(blobKey: string, digest: string): string {
  return blobDataKey(rootOfKey(blobKey), digest);
}

/** The root directory a full object key was built with. */
function rootOfKey(key: string): string {
  const cut = key.lastIndexOf('docker/registry/v2/');
  return cut > 0 ? key.slice(0, cut - 1) : '';
}

/** Storage answered whether the revision link a webhook implies exists. */
function onLinkAnswer(
  { state, e, line, now, out }: Answer,
  c: Extract<Check, { type: 'revision-link' }>
) {
  const repo = state.repos.get(c.repository);
  const hook = repo?.webhooks.get(c.digest);
  if (!repo || !hook || e.presence === 'unknown') return;
  hook.linkCheck = e.presence;
  pushEvidence(hook.evidence, line);
  if (e.presence === 'missing' && hook.attempts > 0) {
    const { repository, digest } = c;
    out.findings.push(webhookFinding({ repository, digest, hook, now, verified: true }));
    repo.webhooks.delete(c.digest);
  }
}

/** A manifest's data is present and was read: check (or ask about) every digest it references. */
function onManifestRead(
  { state, e, now, cfg, out }: Answer,
  c: Extract<Check, { type: 'manifest' }>
) {
  const ms = state.repos.get(c.repository)?.manifests.get(c.digest);
  if (!ms || ms.referencesChecked) return;
  ms.referencesChecked = true;
  ms.references = e.references ?? [];
  for (const ref of ms.references) {
    const rf = factOf(state, ref, now);
    if (rf.presence === 'missing' && rf.source === 'check') {
      reportDigest(state, out, {
        kind: 'layer-data-missing',
        repository: c.repository,
        digest: ref,
        first: ms.at,
        last: now,
        evidence: [
          ...ms.evidence,
          `referenced by manifest ${c.digest}`,
          `${blobDataKey(cfg.rootDirectory, ref)} is missing`,
        ],
        verified: true,
      });
    } else if (!writtenWithin(rf, now, cfg)) {
      // Only a write seen within the window (the same push) spares the check, not memory.
      const key = siblingKey(c.key, ref);
      out.checks.push({ type: 'blob-data', digest: ref, key, repository: c.repository });
    }
  }
}

/** Data proven missing: every repository linking it, and the layer link that asked. */
function onMissingData(answer: Answer, c: Check, fact: BlobFact) {
  const { state, line, now, out } = answer;
  const removal = fact.pendingRemoval;
  reportMissingData(state, out, c.digest, now, [line]);
  if (removal && fact.manifestOf.length + fact.layerOf.length === 0) {
    const evidence = [...removal.evidence, line].map(renderEvidence);
    const root = rootOfKey(c.key);
    out.findings.push(removalFinding({ digest: c.digest, root, at: removal.at, evidence }));
  }
  const repository = c.repository;
  if (!repository) return;
  const layer = state.repos.get(repository)?.layers.get(c.digest);
  if (layer && !fact.layerOf.includes(repository)) {
    reportDigest(state, out, {
      kind: 'layer-data-missing',
      repository,
      digest: c.digest,
      first: layer.at,
      last: now,
      evidence: [...layer.evidence, line],
      verified: true,
    });
  }
}

export function onCheck(
  state: EngineState,
  e: CheckResultEvent,
  now: number,
  cfg: EngineConfig,
  out: EngineOutput
): void {
  const c = e.check;
  const line: Evidence = `check ${c.type} ${c.key} → ${e.presence} at ${iso(e.time)}`;
  const answer: Answer = { state, e, line, now, cfg, out };
  if (c.type === 'revision-link') {
    onLinkAnswer(answer, c);
    return;
  }
  if (e.presence === 'unknown') return; // never "missing" on doubt; asked again at the deadline
  const fact = factOf(state, c.digest, now);
  if (!(fact.source === 'event' && fact.at > e.time)) {
    fact.presence = e.presence;
    fact.at = e.time;
    fact.source = 'check';
  }
  if (c.type === 'manifest' && e.presence === 'present') onManifestRead(answer, c);
  if (e.presence === 'present') {
    fact.pendingRemoval = undefined;
    fact.reported = new Map();
    return;
  }
  onMissingData(answer, c, fact);
}
