/**
 * Correlation engine (pure). PLACEHOLDER CONTRACT: implementation in progress.
 */
import type { Check, CheckResultEvent, Finding, NormalizedEvent } from './types.ts';

export interface EngineConfig {
  /** Correlation window in ms (1 s .. 2 h). */
  windowMs: number;
  /**
   * Report findings whose storage facts are unknown when their window closes (replay without
   * storage access) as `verified: false`. When false (live), an unknown fact asks for a check again.
   */
  reportUnverified: boolean;
  /** Root directory used to build object keys for checks on webhook-only scopes. */
  rootDirectory: string;
}

export interface EngineOutput {
  findings: Finding[];
  checks: Check[];
}

/** Serialisable per-repository window state. */
export type RepoState = Record<string, unknown>;
/** Serialisable per-digest facts (presence of blob data, which repositories link it). */
export type BlobFact = Record<string, unknown>;

export interface EngineState {
  repos: Record<string, RepoState>;
  blobs: Record<string, BlobFact>;
}

export function createState(): EngineState {
  return { repos: {}, blobs: {} };
}

/** Repositories and digests whose state an event reads or writes (for partial loading). */
export function scopesOf(_event: NormalizedEvent | CheckResultEvent): {
  repositories: string[];
  digests: string[];
} {
  throw new Error('not implemented');
}

/** Applies one event; mutates `state` and returns findings and checks. */
export function applyEvent(
  _state: EngineState,
  _event: NormalizedEvent | CheckResultEvent,
  _now: number,
  _config: EngineConfig
): EngineOutput {
  throw new Error('not implemented');
}

/** Closes every window due at `now`; drops state that is no longer needed. */
export function closeDue(_state: EngineState, _now: number, _config: EngineConfig): EngineOutput {
  throw new Error('not implemented');
}

/** Earliest deadline of each repository and digest scope (epoch ms), for a deadline index. */
export function deadlinesOf(_state: EngineState): {
  repositories: Record<string, number>;
  digests: Record<string, number>;
} {
  throw new Error('not implemented');
}

/** Digests a repository's state refers to (load their facts together with it). */
export function digestsOfRepo(_repo: RepoState): string[] {
  throw new Error('not implemented');
}
