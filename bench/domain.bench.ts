/**
 * Ingest throughput of the pure domain: parse + classify + correlate, against a bare loop that
 * only JSON.parses the same lines and decodes each key (the ceiling for any JavaScript ingest).
 * Each is the best of five runs, the two taking turns so that both meet the same load on a
 * shared machine.
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

/** Records per second of one run of `fn`. */
function rate(fn: () => unknown, records: number): number {
  const t = process.hrtime.bigint();
  fn();
  return (records * 1e9) / Number(process.hrtime.bigint() - t);
}

export async function run(): Promise<Figure[]> {
  const lines = syntheticTrace(RECORDS);
  rate(() => bareLoop(lines), RECORDS);
  rate(() => ingest(lines), RECORDS);
  let bare = 0;
  let pure = 0;
  for (let r = 0; r < 5; r++) {
    bare = Math.max(
      bare,
      rate(() => bareLoop(lines), RECORDS)
    );
    pure = Math.max(
      pure,
      rate(() => ingest(lines), RECORDS)
    );
  }
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
