/**
 * Step 4 of `pushguard local`: the findings queue consumed by a remediator (remediation.ts builds
 * lambdas/app/remediate.ts's), one run per batch, a failed finding retried alone.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import { parseFinding } from '../domain/finding-schema.ts';
import type { Finding } from '../domain/types.ts';
import type { Clock } from '../ports.ts';
import type { LOCAL_CREDENTIALS, LocalOptions } from './local-options.ts';
import type { ActionLine, Reporter } from './reporter.ts';
import type { S3Emulator } from './s3-emulator/emulator.ts';
import { type SqsPoller, startSqsPoller } from './sqs-poller.ts';

/** What the findings poller calls for each finding (lambdas/app/remediate.ts's remediator). */
export interface LocalRemediator {
  remediate(finding: Finding): Promise<ActionLine>;
  /** Ends a run (one findings batch): one ticket for whatever went over a cap. */
  endRun(): Promise<ActionLine | undefined>;
  close(): Promise<void>;
}

export interface RemediatorParts {
  registryRedis: Redis;
  stateRedis: Redis;
  emulator: S3Emulator;
  sqs: SQSClient;
  sns: SNSClient;
  topicArn: string;
  clock: Clock;
  options: LocalOptions;
  credentials: typeof LOCAL_CREDENTIALS;
  /** PushGuard's version, for audit records. */
  version: string;
}

export type RemediatorFactory = (parts: RemediatorParts) => Promise<LocalRemediator>;

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Polls the findings queue into `remediator`; each batch ends a run. */
export function startFindingsPoller(opts: {
  sqs: SQSClient;
  queueUrl: string;
  remediator: LocalRemediator;
  reporter: Reporter;
  log: (message: string) => void;
}): SqsPoller {
  const { remediator, reporter, log } = opts;
  return startSqsPoller({
    sqs: opts.sqs,
    queueUrl: opts.queueUrl,
    handle: async (records) => {
      const failed: string[] = [];
      for (const record of records) {
        try {
          reporter.action(await remediator.remediate(parseFinding(record.body)));
        } catch (err) {
          log(`remediation of ${record.id} failed (retried): ${describe(err)}`);
          failed.push(record.id);
        }
      }
      try {
        const summary = await remediator.endRun();
        if (summary) reporter.action(summary);
      } catch (err) {
        log(`end of remediation run: ${describe(err)}`);
      }
      return failed;
    },
    onError: (err) => log(`findings poller: ${describe(err)}`),
  });
}
