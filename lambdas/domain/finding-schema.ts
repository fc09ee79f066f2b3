/**
 * The one strict schema of a Finding as it travels between functions (findings queue, local
 * remediation): what the remediate Lambda and `pushguard local` both accept before acting on the
 * registry's cache. Strict: an unknown field, a kind or action PushGuard does not make, or a
 * repository, digest, tag or upload id off distribution's grammar is refused with a clear error,
 * never cast.
 */
import * as z from 'zod';
import { MalformedEventError } from './errors.ts';
import {
  isValidRepositoryName,
  isValidTag,
  isValidUploadId,
  parseDigest,
} from './reference-grammar.ts';
import type { Finding, FindingKind, SuggestedAction } from './types.ts';

const KINDS = [
  'incomplete-push',
  'manifest-data-missing',
  'layer-data-missing',
  'webhook-without-commit',
  'abandoned-upload',
  'blob-data-removed',
] as const satisfies readonly FindingKind[];

const ACTIONS = [
  'clear-cache',
  'open-ticket',
  'notify',
] as const satisfies readonly SuggestedAction[];

/** ISO-8601 as Date#toISOString writes it (extended years included: a window closed at +∞). */
const ISO_TIME = /^(?:\d{4}|[+-]\d{6})-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/;
const isoTime = z
  .string()
  .refine((s) => ISO_TIME.test(s) && !Number.isNaN(Date.parse(s)), 'not an ISO-8601 time');

export const FindingSchema = z
  .strictObject({
    id: z.string().min(1).max(1024),
    kind: z.enum(KINDS),
    // Empty only for blob-data-removed (data no repository is known to link): see below.
    repository: z.string(),
    digest: z
      .string()
      .refine((d) => parseDigest(d) !== undefined, 'not a valid digest')
      .optional(),
    tag: z.string().refine(isValidTag, 'not a valid tag').optional(),
    uploadId: z.string().refine(isValidUploadId, 'not a valid upload id').optional(),
    firstSeen: isoTime,
    lastSeen: isoTime,
    evidence: z.array(z.string()),
    verified: z.boolean(),
    action: z.enum(ACTIONS),
  })
  .superRefine((f, ctx) => {
    const unlinked = f.kind === 'blob-data-removed' && f.repository === '';
    if (!unlinked && !isValidRepositoryName(f.repository)) {
      ctx.addIssue({
        code: 'custom',
        path: ['repository'],
        message: 'not a valid repository name',
      });
    }
  });

/** A finding from a message body (JSON text or parsed); MalformedEventError naming the field. */
export function parseFinding(body: unknown): Finding {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      throw new MalformedEventError('finding', 'not JSON');
    }
  }
  const parsed = FindingSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['finding', ...(issue?.path ?? []).map(String)].join('.');
    throw new MalformedEventError(field, issue?.message ?? 'invalid');
  }
  return parsed.data satisfies Finding;
}
