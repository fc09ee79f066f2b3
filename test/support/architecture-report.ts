/**
 * `npx tsx test/support/architecture-report.ts`: the structure rules of lambdas/ (files ≤ 400
 * lines, functions ≤ 80, no import cycle from any entry point, type-only included), each
 * violation on a line; exit 1 when there is any. test/unit/architecture.test.ts asserts the same
 * three rules.
 */
import { structureViolations } from './architecture.ts';

const v = await structureViolations();
for (const [rule, list] of Object.entries(v)) {
  process.stdout.write(`${rule}: ${list.length === 0 ? 'ok' : `${list.length} violation(s)`}\n`);
  for (const line of list) process.stdout.write(`  ${line}\n`);
}
process.exitCode = Object.values(v).some((list) => list.length > 0) ? 1 : 0;
