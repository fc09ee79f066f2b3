/**
 * Property: names are data. Generated streams (names.ts, streams.ts) whose repositories, tags,
 * projects and upload ids include prototype member names, look-alike and integer-like names and
 * names at their maximal length and nesting go through the real normalisers and the engine, once
 * with the state kept in memory and once with every scope written to text and read back through
 * the window store's codec between batches. Both give the same findings and checks, no record
 * fails, and the codec gives back exactly the text it read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeState,
  encodeState,
  type ScopeKind,
} from '../../lambdas/adapters/window-state-codec.ts';
import {
  applyEvent,
  closeDue,
  createState,
  type EngineConfig,
  type EngineState,
} from '../../lambdas/domain/engine.ts';
import type { BlobFact, RepoState } from '../../lambdas/domain/engine-state.ts';
import { normalizeMessage } from '../../lambdas/domain/events.ts';
import type { Check, CheckResultEvent, Finding } from '../../lambdas/domain/types.ts';
import { batchesOf, ROOT, SEED, type Stream, stream } from './streams.ts';

const RUNS = 20_000;
const ENGINE: EngineConfig = { windowMs: 60_000, reportUnverified: false, rootDirectory: ROOT };

/** Every scope to text and back, as a store does between batches. */
function roundTrip(state: EngineState): EngineState {
  const back = createState();
  back.sweptAt = state.sweptAt;
  const through = (kind: ScopeKind, value: RepoState | BlobFact) => {
    const text = encodeState(kind, value);
    const decoded = decodeState(kind, text);
    // the codec reads back exactly what it wrote
    if (encodeState(kind, decoded) !== text) throw new Error(`codec not stable on ${text}`);
    return decoded;
  };
  for (const [name, repo] of state.repos) back.repos.set(name, through('repo', repo) as RepoState);
  for (const [d, fact] of state.blobs) back.blobs.set(d, through('blob', fact) as BlobFact);
  return back;
}

interface Outcome {
  findings: Finding[];
  checks: Check[];
  failures: string[];
}

/** The stream through normalise + engine, answering each check as the stream says. */
function run(st: Stream, crossStore: boolean): Outcome {
  let state = createState();
  const out: Outcome = { findings: [], checks: [], failures: [] };
  let asked = 0;
  const answer = (checks: readonly Check[], now: number) => {
    for (const check of checks) {
      const presence = st.answers[asked++ % st.answers.length]!;
      const result: CheckResultEvent = { source: 'check', check, presence, time: now };
      const o = applyEvent(state, result, now, ENGINE);
      out.findings.push(...o.findings);
      out.checks.push(...o.checks);
    }
  };
  for (const batch of batchesOf(st)) {
    if (crossStore) state = roundTrip(state);
    for (const body of batch.bodies) {
      try {
        for (const event of normalizeMessage(body, { rootDirectory: ROOT }).events) {
          const o = applyEvent(state, event, batch.now, ENGINE);
          out.findings.push(...o.findings);
          out.checks.push(...o.checks);
          answer(o.checks, batch.now);
        }
      } catch (err) {
        out.failures.push(String(err));
      }
    }
    if (crossStore) state = roundTrip(state);
    const closed = closeDue(state, batch.now, ENGINE);
    out.findings.push(...closed.findings);
    out.checks.push(...closed.checks);
  }
  if (crossStore) state = roundTrip(state);
  const last = closeDue(state, Number.MAX_SAFE_INTEGER / 2, ENGINE);
  out.findings.push(...last.findings);
  return out;
}

describe('Property: names are data, in the engine and across the store codec', () => {
  it(`gives the same findings with state through the codec, never a failed record (${RUNS} streams)`, () => {
    let findings = 0;
    let prototypeNamed = 0;
    fc.assert(
      fc.property(stream, (st) => {
        const memory = run(st, false);
        const stored = run(st, true);
        expect(memory.failures).toEqual([]);
        expect(stored).toEqual(memory);
        findings += memory.findings.length;
        if (
          memory.findings.some((f) =>
            /__proto__|constructor|toString|valueOf|hasOwnProperty/.test(JSON.stringify(f))
          )
        )
          prototypeNamed++;
      }),
      { seed: SEED, numRuns: RUNS }
    );
    // the streams reach the engine's decisions, with prototype names in them
    expect(findings).toBeGreaterThan(RUNS);
    expect(prototypeNamed).toBeGreaterThan(RUNS / 20);
  });

  it('leaves Object.prototype untouched', () => {
    // a poisoned prototype would show here, in this worker, after the streams above
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(
      Object.getOwnPropertyNames(Object.getPrototypeOf({})).sort()
    );
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect('sha256:0' in {}).toBe(false);
  });
});
