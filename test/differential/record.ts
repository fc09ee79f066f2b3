/**
 * Records the differential fixtures. Run ONLY on the reference commit (d63cd26, main before the
 * issue-14 refactors): `npx tsx test/differential/record.ts`. Re-recording on a later commit would
 * bless whatever that commit does; a deliberate behaviour change must say so in its commit body.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NORMALIZE_SOURCES, OUT_DIR, REPLAY_CASES } from './cases.ts';
import { normalizeOutName, normalizeSource, replayOutName, runReplayCase } from './run.ts';

function write(name: string, text: string): void {
  const file = join(OUT_DIR, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

for (const c of REPLAY_CASES) {
  for (const json of [true, false]) write(replayOutName(c, json), await runReplayCase(c, json));
}
for (const file of NORMALIZE_SOURCES) write(normalizeOutName(file), normalizeSource(file));
process.stdout.write(
  `recorded ${REPLAY_CASES.length * 2} replay outputs, ${NORMALIZE_SOURCES.length} normaliser files\n`
);
