/**
 * `pushguard local`: the whole pipeline on one machine (S3/SQS/SNS emulator a registry can use,
 * pollers, window check, remediation, Harbor webhook) until SIGINT or SIGTERM.
 */
import { type LocalOptions, startLocal } from '../../local/compose.ts';
import { createLocalRemediator } from '../../local/remediation.ts';
import { jsonReporter, textReporter } from '../../local/reporter.ts';
import { ensureIgnored } from '../defaults.ts';
import type { LocalCliOptions } from '../options.ts';

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      // A second signal while stopping ends the process at once.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function toLocalOptions(o: LocalCliOptions, env: NodeJS.ProcessEnv): LocalOptions {
  const fromEnv = (env.PUSHGUARD_WEBHOOK_SECRETS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    s3Port: o.s3Port,
    webhookPort: o.webhookPort,
    redisUrl: o.redis ?? env.REDIS_URL,
    registryDb: o.registryDb,
    stateDb: o.stateDb,
    bucket: o.bucket,
    rootDirectory: o.rootDirectory,
    windowMs: o.window,
    settleMs: o.settle,
    enforce: o.enforce === true,
    auditDir: o.auditDir,
    webhookSecrets: o.webhookSecret.length > 0 ? o.webhookSecret : fromEnv,
    visibilityTimeoutSeconds: o.visibilityTimeout,
    registryHost: o.registryHost,
    restoreFrom: o.restoreFrom,
  };
}

export async function runLocal(opts: LocalCliOptions, version: string): Promise<void> {
  const streams = { out: process.stdout, err: process.stderr };
  const reporter = opts.json ? jsonReporter(streams) : textReporter(streams);
  const signal = untilSignal();
  // The banner and the ready line print where the records go (ReadyInfo.auditDir).
  const auditDir = ensureIgnored(opts.auditDir);
  const dataDir = opts.ephemeral ? undefined : ensureIgnored(opts.dataDir);
  const local = { ...toLocalOptions(opts, process.env), auditDir, dataDir };
  const runtime = await startLocal(local, reporter, {
    remediator: createLocalRemediator,
    version,
  });
  reporter.ready(runtime.ready);
  const got = await signal;
  reporter.log(`pushguard local: ${got}, stopping`);
  await runtime.stop();
  reporter.log('pushguard local: stopped');
  process.exitCode = 0;
  // Nothing should be left running; if a stray handle remains, do not hang on it.
  setTimeout(() => process.exit(0), 3000).unref();
}
