/**
 * A local stand-in for Lambda's SQS event source mapping, with the same semantics: batches of up
 * to 10, the handler gets the whole batch and reports per-record failures (ReportBatchItemFailures);
 * only the successful messages are deleted, failed ones come back after the visibility timeout and
 * go to the DLQ once the queue's RedrivePolicy maxReceiveCount is exceeded. A handler that throws
 * fails the whole batch, as in Lambda.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface QueueRecord {
  /** The SQS message id (the `itemIdentifier` of a batch item failure). */
  id: string;
  body: string;
  receiveCount: number;
}

export interface SqsPollerOptions {
  sqs: Pick<SQSClient, 'send'>;
  queueUrl: string;
  /** @default 10 */
  batchSize?: number;
  /** Long-poll wait per receive, seconds. @default 1 */
  waitTimeSeconds?: number;
  /** Visibility timeout of received messages, seconds (the queue's own when absent). */
  visibilityTimeoutSeconds?: number;
  /** Returns the ids of the records that failed. */
  handle(records: QueueRecord[]): Promise<string[]>;
  /** Errors of the poller itself and of throwing handlers (the batch is retried). */
  onError?(err: unknown): void;
}

export interface SqsPoller {
  /** Stops receiving and waits for the batch in progress to finish. */
  stop(): Promise<void>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const abort = new AbortController();
  let stopping = false;

  const receive = async (): Promise<QueueRecord[]> => {
    const out = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, Math.max(1, options.batchSize ?? 10)),
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        VisibilityTimeout: options.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      { abortSignal: abort.signal }
    );
    return (out.Messages ?? []).map((m) => ({
      id: m.MessageId ?? '',
      body: m.Body ?? '',
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      receipt: m.ReceiptHandle ?? '',
    }));
  };

  const runOnce = async (): Promise<void> => {
    const batch = (await receive()) as (QueueRecord & { receipt: string })[];
    if (batch.length === 0) return;
    let failed: Set<string>;
    try {
      failed = new Set(await options.handle(batch.map(({ receipt: _r, ...rec }) => rec)));
    } catch (err) {
      options.onError?.(err);
      return; // the whole batch comes back after the visibility timeout
    }
    const done = batch.filter((m) => !failed.has(m.id));
    if (done.length === 0) return;
    await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receipt })),
      })
    );
  };

  const loop = (async () => {
    while (!stopping) {
      try {
        await runOnce();
      } catch (err) {
        if (stopping) break;
        options.onError?.(err);
        await pause(500);
      }
    }
  })();

  return {
    stop: async () => {
      stopping = true;
      abort.abort();
      await loop;
    },
  };
}
