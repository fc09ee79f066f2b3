/**
 * Replay: findings from recorded events, with no storage access. Reads NDJSON lines (S3
 * notification, SNS envelope, EventBridge event or Harbor webhook; optionally wrapped as
 * `{"receivedAt": ..., "body": ...}`), runs the pure engine in memory and closes every window at
 * `now` (default: all of them). What the events cannot prove is reported unverified.
 */
import { applyEvent, closeDue, createState, type EngineConfig } from '../domain/engine.ts';
import { PushGuardError } from '../domain/errors.ts';
import { normalizeMessage, unwrapRecorded } from '../domain/events.ts';
import { detectRootDirectory, normalizeRootDirectory } from '../domain/keys.ts';
import type { Finding } from '../domain/types.ts';

/** A replay line that is not an accepted message: `line N: reason`. */
export class InvalidLineError extends PushGuardError {
  constructor(
    readonly line: number,
    reason: string
  ) {
    super(`line ${line}: ${reason}`);
  }
}

export interface ReplayOptions {
  windowMs: number;
  /** Explicit root directory; detected from the keys when absent. */
  rootDirectory?: string;
  /** Close windows at this time (epoch ms); default: every window closed. */
  now?: number;
  /** Count malformed lines instead of failing on the first. */
  skipInvalid?: boolean;
}

export interface ReplayResult {
  findings: Finding[];
  lines: number;
  events: number;
  skippedLines: number;
  invalid: InvalidLineError[];
}

/** Windows are closed every tenth of a window of event time, and on demand at the end. */
const CLOSE_STEPS = 10;

export async function replay(
  lines: AsyncIterable<string> | Iterable<string>,
  opts: ReplayOptions
): Promise<ReplayResult> {
  const state = createState();
  const explicitRoot =
    opts.rootDirectory === undefined ? undefined : normalizeRootDirectory(opts.rootDirectory);
  const cfg: EngineConfig = {
    windowMs: opts.windowMs,
    reportUnverified: true,
    rootDirectory: explicitRoot ?? '',
  };
  let rootKnown = explicitRoot !== undefined;
  const findings = new Map<string, Finding>();
  const keep = (list: Finding[]) => {
    for (const f of list) {
      const prev = findings.get(f.id);
      if (!prev || (!prev.verified && f.verified)) findings.set(f.id, f);
    }
  };
  const result: ReplayResult = { findings: [], lines: 0, events: 0, skippedLines: 0, invalid: [] };
  let clock = Number.NEGATIVE_INFINITY;
  let closedAt = Number.NEGATIVE_INFINITY;
  for await (const raw of lines) {
    result.lines += 1;
    const text = raw.trim();
    if (text === '') continue;
    let parsed: ReturnType<typeof normalizeMessage>;
    let receivedAt: number | undefined;
    try {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new InvalidLineError(result.lines, `not JSON (${(err as Error).message})`);
      }
      const unwrapped = unwrapRecorded(json);
      receivedAt = unwrapped.receivedAt;
      parsed = normalizeMessage(
        unwrapped.body,
        explicitRoot === undefined ? {} : { rootDirectory: explicitRoot }
      );
    } catch (err) {
      const invalid =
        err instanceof InvalidLineError
          ? err
          : new InvalidLineError(result.lines, err instanceof Error ? err.message : String(err));
      if (!opts.skipInvalid) throw invalid;
      result.invalid.push(invalid);
      result.skippedLines += 1;
      continue;
    }
    for (const event of parsed.events) {
      if (!rootKnown && event.source === 'storage' && event.storageKey.kind !== 'unrelated') {
        cfg.rootDirectory = detectRootDirectory(event.key) ?? '';
        rootKnown = true;
      }
      const now = Math.max(clock, receivedAt ?? event.time);
      if (opts.now !== undefined && now > opts.now) continue;
      clock = now;
      result.events += 1;
      keep(applyEvent(state, event, now, cfg).findings);
      if (clock - closedAt >= cfg.windowMs / CLOSE_STEPS) {
        closedAt = clock;
        keep(closeDue(state, clock, cfg).findings);
      }
    }
  }
  keep(closeDue(state, opts.now ?? Number.POSITIVE_INFINITY, cfg).findings);
  result.findings = [...findings.values()];
  return result;
}
