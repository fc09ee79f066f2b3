/**
 * `pushguard preflight [--config file.json] [--region r] [--json]`: parses the deployment
 * configuration as `cdk synth` does (lib/config.ts), runs the read-only checks of
 * lambdas/app/preflight.ts with the caller's credentials, prints one line per check.
 * Exit code 1 when a check fails, 0 otherwise (warnings included).
 */
import { readFileSync } from 'node:fs';
import { parsePushGuardConfig, registryPrefix } from '../../../lib/config.ts';
import { AwsPreflight } from '../../adapters/aws-preflight.ts';
import { type PreflightConfig, runPreflight } from '../../app/preflight.ts';
import { ConfigError } from '../../domain/errors.ts';
import type { PreflightAws } from '../../ports.ts';
import { type CliIo, stdoutIo } from '../io.ts';
import type { PreflightOptions } from '../options.ts';

function readConfig(file?: string): unknown {
  const path = file ?? 'cdk.json';
  const json = JSON.parse(readFileSync(path, 'utf8')) as { context?: { pushguard?: unknown } };
  return file ? json : json.context?.pushguard;
}

/** The facts preflight needs from a parsed configuration. */
export function preflightConfig(raw: unknown, region: string): PreflightConfig {
  const c = parsePushGuardConfig(raw);
  const secretArns = [
    c.webhook.secretArn,
    c.webhook.previousSecretArn,
    c.redis.authSecretArn,
    c.slack?.webhookSecretArn,
    c.jira?.tokenSecretArn,
    c.github?.tokenSecretArn,
  ].filter((a): a is string => typeof a === 'string');
  return {
    region,
    registryBucketName: c.registryBucketName,
    registryPrefix: registryPrefix(c),
    useEventBridge: c.useEventBridge,
    apiAccessLogs: c.apiAccessLogs,
    reservedConcurrency: c.webhook.reservedConcurrency,
    vpcId: c.vpcId,
    subnetIds: c.subnetIds,
    egress: c.egress,
    secretArns,
  };
}

export async function runPreflightCommand(
  opts: PreflightOptions,
  io: CliIo = stdoutIo,
  aws?: PreflightAws
): Promise<number> {
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigError(['--region: no region (set --region or AWS_REGION)']);
  const config = preflightConfig(readConfig(opts.config), region);
  const client = aws ?? new AwsPreflight({ region });
  try {
    const results = await runPreflight(client, config);
    for (const r of results) {
      io.out(
        opts.json
          ? `${JSON.stringify(r)}\n`
          : `${r.status === 'ok' ? 'ok  ' : r.status === 'warn' ? 'WARN' : 'FAIL'} ${r.check}: ${r.detail}\n`
      );
    }
    return results.some((r) => r.status === 'fail') ? 1 : 0;
  } finally {
    if (!aws) (client as AwsPreflight).destroy();
  }
}
