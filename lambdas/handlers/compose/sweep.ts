/** Composition root of `sweep`: the remediator graph, the audit's view of it, its progress. */
import { RedisSweepProgress } from '../../adapters/redis-sweep-progress.ts';
import type { SweepDeps } from '../../app/sweep.ts';
import { type Env, loadConfig } from '../../config.ts';
import { remediatorGraph } from './remediator.ts';

export async function composeSweep(env: Env = process.env): Promise<SweepDeps> {
  const { deps, state } = await remediatorGraph(loadConfig('sweep', env), {
    actor: 'pushguard-lambda:sweep',
    env,
  });
  return {
    remediator: deps,
    audit: {
      checker: deps.checker,
      registryCache: deps.registryCache,
      rootDirectory: deps.config.rootDirectory,
    },
    progress: new RedisSweepProgress(state),
  };
}
