/**
 * What the correlation engine is configured with and what each call returns (no behaviour here,
 * so every engine module can name them without importing the engine itself).
 */
import type { Check, Finding } from './types.ts';

export interface EngineConfig {
  /** Correlation window in ms (1 s .. 2 h). */
  windowMs: number;
  /**
   * Report findings whose storage facts are still unknown when their window closes (replay
   * without storage access) as `verified: false`. When false (live), storage is asked again.
   */
  reportUnverified: boolean;
  /** Root directory used to build object keys for checks on webhook-only scopes. */
  rootDirectory: string;
  /** How long a fact learned from an event is trusted without asking storage. Default: the window. */
  factTrustMs?: number;
  /** How long blob facts (which repositories link a digest) are kept. Default 7 days. */
  factRetentionMs?: number;
  /** Upper bound on blob facts kept in memory; the least recently touched go first. Default 200k. */
  maxBlobFacts?: number;
  /** Checks at a deadline before an unknown fact is reported unverified. Default 10. */
  maxCheckAttempts?: number;
}

export interface EngineOutput {
  findings: Finding[];
  checks: Check[];
}

export const MIN_WINDOW_MS = 1_000;
export const MAX_WINDOW_MS = 2 * 60 * 60 * 1_000;
export const DAY = 24 * 60 * 60 * 1_000;

/** How long blob facts are kept (factRetentionMs, default 7 days). */
export function factRetentionMs(cfg?: Pick<EngineConfig, 'factRetentionMs'>): number {
  return cfg?.factRetentionMs ?? 7 * DAY;
}
