/** The normalisers' shared types: what each envelope returns, and the options they take. */
import type { NormalizedEvent } from '../types.ts';

export interface NormalizeOptions {
  /** Configured root directory; when absent it is detected from each key. */
  rootDirectory?: string;
}

export type SkipReason = 'test-event' | 'ignored-type' | 'unrelated-only';

export interface NormalizeResult {
  events: NormalizedEvent[];
  skipped?: { reason: SkipReason; detail: string };
}

/** A parsed JSON object whose fields are still unchecked. */
export type Obj = Record<string, unknown>;

/** Normalises an envelope's inner message (SNS `Message`) under `prefix`, one level deeper. */
export type InnerDispatch = (value: unknown, prefix: string, depth: number) => NormalizeResult;
