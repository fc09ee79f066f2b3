/**
 * Builds PushGuard's two stacks into an App and registers the cdk-nag packs. Shared by bin/app.ts
 * (`cdk synth` / `cdk deploy`) and the infra tests. A consumer of the construct library like any
 * other: it uses only what lib/index.ts (`pushguard/cdk`) exports.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ConfigError, PipelineStack, parsePushGuardConfig, StatefulStack } from './index.ts';
import { PushGuardChecks } from './nag/pushguard-checks.ts';

export interface BuildOptions {
  /** Stack name prefix. @default 'PushGuard' */
  readonly prefix?: string;
  /** Register cdk-nag on the app (validation runs at synth). @default true */
  readonly nag?: boolean;
  /** Explicit account/region; default: the CLI's environment variables, if any. */
  readonly env?: { account?: string; region?: string };
}

/** Reads the `pushguard` context (throws ConfigError listing every problem) and adds the stacks. */
export function buildPushGuard(app: App, options: BuildOptions = {}) {
  const raw: unknown = app.node.tryGetContext('pushguard');
  const config = parsePushGuardConfig(typeof raw === 'string' ? parseJsonContext(raw) : raw);
  const prefix = options.prefix ?? 'PushGuard';
  const env = options.env ?? {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  };
  const stateful = new StatefulStack(app, `${prefix}Stateful`, {
    config,
    namePrefix: prefix,
    env,
    description: 'PushGuard: queues, topics, audit bucket, registry bucket notifications',
    terminationProtection: true,
  });
  const pipeline = new PipelineStack(app, `${prefix}Pipeline`, {
    config,
    stateful,
    namePrefix: prefix,
    env,
    description: 'PushGuard: functions, webhook API, schedules, alarms',
  });
  pipeline.addStackDependency(stateful);
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app),
      new ServerlessChecks(app),
      new PushGuardChecks(app)
    );
  }
  return { config, stateful, pipeline };
}

/** `-c pushguard='{...}'` arrives as a string. */
function parseJsonContext(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(['pushguard: context is a string but not JSON']);
  }
}
