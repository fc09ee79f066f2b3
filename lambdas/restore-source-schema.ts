/**
 * The restore sources, one schema for both sides: cdk.json (`restore.sources`, checked at synth with
 * a complete secret ARN) and the remediate function's `RESTORE_SOURCES` (the JSON the stack wrote).
 */
import * as z from 'zod';

/** `{"type":"s3-versions"}`, `{"type":"registry","url":…,"credentialsSecretArn":…}` or `{"type":"cache-layer"}`. */
export function restoreSourceSchema(secretArn: z.ZodString) {
  return z.discriminatedUnion('type', [
    z.object({ type: z.literal('s3-versions') }),
    z.object({
      type: z.literal('registry'),
      url: z.url({ protocol: /^https?$/ }),
      credentialsSecretArn: secretArn.optional(),
    }),
    z.object({ type: z.literal('cache-layer') }),
  ]);
}
