/**
 * Ingest throughput of the pure domain: parse + classify + correlate, against a bare loop that
 * only JSON.parses the same lines and decodes each key (the ceiling for any JavaScript ingest).
 */
import { applyEvent, closeDue, createState, type EngineConfig } from '../lambdas/domain/engine.ts';
import { normalizeMessage } from '../lambdas/domain/events.ts';
import { decodeS3Key } from '../lambdas/domain/keys.ts';
import type { Figure } from './figures.ts';
import { syntheticTrace } from './synthetic.ts';

const RECORDS = 100_000;

function bareLoop(lines: readonly string[]): number {
  let n = 0;
  for (const line of lines) {
    const body = JSON.parse(line) as { Records: { s3: { object: { key: string } } }[] };
    for (const r of body.Records) n += decodeS3Key(r.s3.object.key).length;
  }
  return n;
}

function ingest(lines: readonly string[]): number {
  const cfg: EngineConfig = { windowMs: 600_000, reportUnverified: false, rootDirectory: 'harbor' };
  const state = createState();
  let findings = 0;
  let now = 0;
  let closedAt = 0;
  for (const line of lines) {
    for (const event of normalizeMessage(line, { rootDirectory: 'harbor' }).events) {
      now = event.time;
      findings += applyEvent(state, event, now, cfg).findings.length;
    }
    // As replay does: close windows each tenth of a window of event time.
    if (now - closedAt >= cfg.windowMs / 10) {
      closedAt = now;
      findings += closeDue(state, now, cfg).findings.length;
    }
  }
  return findings;
}

function best(fn: () => unknown, records: number, rounds = 5): number {
  let bestMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    fn();
    bestMs = Math.min(bestMs, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return (records * 1000) / bestMs;
}

export async function run(): Promise<Figure[]> {
  const lines = syntheticTrace(RECORDS);
  best(() => bareLoop(lines), RECORDS, 1);
  best(() => ingest(lines), RECORDS, 1);
  const bare = best(() => bareLoop(lines), RECORDS);
  const pure = best(() => ingest(lines), RECORDS);
  return [
    {
      name: 'bare loop: JSON.parse + key decode (100k records)',
      value: Math.round(bare),
      unit: 'records/s',
    },
    {
      name: 'domain ingest: parse + classify + correlate (100k records)',
      value: Math.round(pure),
      unit: 'records/s',
      baseline: { name: 'bare loop', value: Math.round(bare) },
      goal: '≥ 0.5× the bare loop',
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await run())
    console.log(
      `${f.name}: ${f.value} ${f.unit}${f.baseline ? ` (${(f.value / f.baseline.value).toFixed(2)}× ${f.baseline.name})` : ''}`
    );
}
