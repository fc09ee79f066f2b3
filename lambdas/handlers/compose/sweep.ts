/** Composition root of `sweep`: the remediator graph, plus the audit's view of it. */
import type { SweepDeps } from '../../app/sweep.ts';
import { type Env, loadConfig } from '../../config.ts';
import { remediatorDeps } from './remediator.ts';

export async function composeSweep(env: Env = process.env): Promise<SweepDeps> {
  const remediator = await remediatorDeps(loadConfig('sweep', env), {
    actor: 'pushguard-lambda:sweep',
    env,
  });
  return {
    remediator,
    audit: {
      checker: remediator.checker,
      registryCache: remediator.registryCache,
      rootDirectory: remediator.config.rootDirectory,
    },
  };
}
