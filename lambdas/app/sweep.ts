/**
 * The scheduled sweep (`sweep` function): the registry's Redis cache against S3, as
 * `pushguard audit --fix` does, with the same remediator as `remediate` (dry-run by default,
 * caps, audit record first).
 */
import { type AuditDeps, type AuditSummary, runAudit, type StaleEntry } from './audit.ts';
import { createRemediator, type RemediatorDeps } from './remediate.ts';

export interface SweepDeps {
  audit: Omit<AuditDeps, 'fix' | 'onStale'>;
  remediator: RemediatorDeps;
}

export type SweepSummary = Omit<AuditSummary, 'unknownSamples'> & {
  unknownSamples: AuditSummary['unknownSamples'];
};

export async function runSweep(
  deps: SweepDeps,
  options: { onStale?: (entry: StaleEntry) => void } = {}
): Promise<AuditSummary> {
  const remediator = createRemediator(deps.remediator);
  return runAudit({
    ...deps.audit,
    fix: {
      remediator,
      registryHost: deps.remediator.config.registryHost,
      cacheLayer: deps.remediator.config.cacheLayer,
    },
    onStale: options.onStale,
  });
}
