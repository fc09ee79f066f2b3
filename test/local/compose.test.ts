/**
 * The composition root in-process: the events queue is consumed with the Lambda's semantics (a
 * poison record fails alone and reaches the DLQ after 5 receives, the good ones are processed and
 * deleted), and stop() leaves nothing running.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Finding } from '../../lambdas/domain/types.ts';
import { LOCAL_CREDENTIALS, type LocalRuntime, startLocal } from '../../lambdas/local/compose.ts';
import { createLocalRemediator } from '../../lambdas/local/remediation.ts';
import type { ActionLine, Reporter } from '../../lambdas/local/reporter.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';
import { drain } from './support/emulator.ts';

function s3Event(key: string, sequencer: string) {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: 'registry', arn: 'arn:aws:s3:::registry' },
          object: { key, size: 20, eTag: '0'.repeat(32), sequencer },
        },
      },
    ],
  });
}

describe('pushguard local composition: queue semantics', () => {
  let runtime: LocalRuntime;
  let sqs: SQSClient;
  let auditDir: string;
  const findings: Finding[] = [];
  const actions: ActionLine[] = [];
  const logs: string[] = [];
  const reporter: Reporter = {
    ready: () => {},
    finding: (f) => findings.push(f),
    action: (a) => actions.push(a),
    log: (m) => logs.push(m),
  };

  beforeAll(async () => {
    const [registryDb, stateDb] = (await allocateDbs(2)) as [number, number];
    auditDir = mkdtempSync(join(tmpdir(), 'pushguard-compose-audit-'));
    runtime = await startLocal(
      {
        s3Port: 0,
        webhookPort: 0,
        redisUrl: redisUrl(),
        registryDb,
        stateDb,
        bucket: 'registry',
        rootDirectory: '',
        windowMs: 60_000,
        settleMs: 10,
        enforce: false,
        auditDir,
        webhookSecrets: ['Bearer test-secret'],
        visibilityTimeoutSeconds: 1,
      },
      reporter,
      { env: {}, remediator: createLocalRemediator }
    );
    sqs = new SQSClient({
      endpoint: runtime.ready.s3Endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
  });

  afterAll(async () => {
    sqs?.destroy();
    await runtime?.stop();
    rmSync(auditDir, { recursive: true, force: true });
  });

  it('a poison record fails alone and is dead-lettered after 5 receives; good records are deleted', async () => {
    // Prepare: one good notification, one poison body.
    const url = runtime.ready.eventsQueueUrl;
    const good = s3Event('docker/registry/v2/repositories/library/app/_uploads/u1/startedat', '01');
    await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: '{"Records":[{"s3":42}]}' })
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: good }));
    // Act: wait for the DLQ.
    const dlq = url.replace(/pushguard-events$/, 'pushguard-events-dlq');
    let dead: string[] = [];
    await vi.waitFor(
      async () => {
        dead = await drain({ sqs }, dlq);
        expect(dead).not.toEqual([]);
      },
      { timeout: 30_000, interval: 200 }
    );
    // Assess
    expect(dead).toEqual(['{"Records":[{"s3":42}]}']);
    const left = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })
    );
    expect(left.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(left.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
    const retried = logs.filter((l) => l.includes('failed (retried)'));
    expect(retried).toHaveLength(5);
    expect(findings).toEqual([]);
  });

  it('refuses a state DB equal to the registry DB before starting anything', async () => {
    await expect(
      startLocal(
        {
          s3Port: 0,
          webhookPort: 0,
          redisUrl: redisUrl(),
          registryDb: 1,
          stateDb: 1,
          bucket: 'registry',
          rootDirectory: '',
          windowMs: 60_000,
          settleMs: 10,
          enforce: false,
          auditDir,
          webhookSecrets: [],
        },
        reporter
      )
    ).rejects.toThrow(/--state-db must differ from --registry-db/);
  });
});
