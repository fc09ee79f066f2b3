import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { type QueueRecord, startSqsPoller } from '../../lambdas/local/sqs-poller.ts';
import { drain, startTestEmulator, type TestEmulator } from './support/emulator.ts';

async function queueWithDlq(t: TestEmulator, name: string) {
  const dlq = await t.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const main = await t.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: '1',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${name}-dlq`,
          maxReceiveCount: 5,
        }),
      },
    })
  );
  return { url: main.QueueUrl ?? '', dlqUrl: dlq.QueueUrl ?? '' };
}

async function waitUntil(cond: () => boolean | Promise<boolean>) {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 50));
}

describe('local SQS poller (Lambda event source semantics)', () => {
  let t: TestEmulator | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('batches of at most 10; the failed record returns and reaches the DLQ after 5 receives', async () => {
    // Prepare: 12 messages, one poison.
    t = await startTestEmulator();
    const q = await queueWithDlq(t, 'events');
    for (const start of [0, 10]) {
      await t.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: q.url,
          Entries: Array.from({ length: start === 0 ? 10 : 2 }, (_, i) => ({
            Id: String(i),
            MessageBody: start + i === 3 ? 'poison' : `ok-${start + i}`,
          })),
        })
      );
    }
    const batches: QueueRecord[][] = [];
    const handled = new Set<string>();
    const poller = startSqsPoller({
      sqs: t.sqs,
      queueUrl: q.url,
      waitTimeSeconds: 0,
      handle: async (records) => {
        batches.push(records);
        for (const r of records) if (r.body !== 'poison') handled.add(r.body);
        return records.filter((r) => r.body === 'poison').map((r) => r.id);
      },
    });
    // Act: wait until the poison message is dead-lettered.
    let dead: string[] = [];
    await waitUntil(async () => {
      dead = await drain(t!, q.dlqUrl);
      return dead.length > 0;
    });
    await poller.stop();
    // Assess
    expect(dead).toEqual(['poison']);
    expect(handled.size).toBe(11);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(10);
    const poisonReceives = batches.flat().filter((r) => r.body === 'poison');
    expect(poisonReceives.map((r) => r.receiveCount)).toEqual([1, 2, 3, 4, 5]);
    const left = await t.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['All'] })
    );
    expect(left.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(left.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
  });

  it('a throwing handler fails the whole batch: nothing is deleted, all come back', async () => {
    t = await startTestEmulator();
    const q = await queueWithDlq(t, 'events');
    for (const body of ['a', 'b']) {
      await t.sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: body }));
    }
    const seen: string[] = [];
    const errors: unknown[] = [];
    let calls = 0;
    const poller = startSqsPoller({
      sqs: t.sqs,
      queueUrl: q.url,
      waitTimeSeconds: 0,
      handle: async (records) => {
        calls++;
        seen.push(...records.map((r) => `${r.body}${r.receiveCount}`));
        if (calls === 1) throw new Error('redis down');
        return [];
      },
      onError: (err) => errors.push(err),
    });
    await waitUntil(() => seen.includes('a2') && seen.includes('b2'));
    await poller.stop();
    expect(seen.slice(0, 2).sort()).toEqual(['a1', 'b1']);
    expect(errors).toHaveLength(1);
    expect(await drain(t, q.url)).toEqual([]);
  });

  it('stop() ends a long poll at once and waits for the batch in progress', async () => {
    t = await startTestEmulator();
    const q = await queueWithDlq(t, 'events');
    let finished = false;
    let started = false;
    const poller = startSqsPoller({
      sqs: t.sqs,
      queueUrl: q.url,
      waitTimeSeconds: 20,
      handle: async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 300));
        finished = true;
        return [];
      },
    });
    await t.sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'x' }));
    await waitUntil(() => started);
    await poller.stop();
    expect(finished).toBe(true);
  });
});
