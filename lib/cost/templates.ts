/**
 * The example app (cdk.json) synthesized once per egress mode, without bundling, for the cost
 * table. `npx tsx lib/cost/templates.ts` prints the table for the README.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { buildPushGuard } from '../app.ts';
import { costTable, type Templates } from './cost-table.ts';

const EXAMPLE_ROUTE_TABLES = ['rtb-0123456789abcdef0', 'rtb-0fedcba9876543210'];

export function costTemplates(): Record<'nat' | 'vpc-endpoints', Templates> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown> & { pushguard: Record<string, unknown> };
  };
  const one = (egress: Record<string, unknown>, drop: string[]): Templates => {
    const pushguard: Record<string, unknown> = { ...cdkJson.context.pushguard, egress };
    for (const k of drop) delete pushguard[k];
    const app = new App({
      context: { ...cdkJson.context, pushguard, 'aws:cdk:bundling-stacks': [] },
    });
    const { stateful, pipeline } = buildPushGuard(app, {
      nag: false,
      env: { account: '123456789012', region: 'us-east-1' },
    });
    const asm = app.synth();
    const read = (name: string) => asm.getStackByName(name).template as Templates['stateful'];
    return { stateful: read(stateful.stackName), pipeline: read(pipeline.stackName) };
  };
  return {
    nat: one({ mode: 'nat' }, []),
    'vpc-endpoints': one({ mode: 'vpc-endpoints', routeTableIds: EXAMPLE_ROUTE_TABLES }, [
      'jira',
      'github',
    ]),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(costTable(costTemplates()));
}
