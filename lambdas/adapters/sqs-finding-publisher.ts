/**
 * FindingPublisher on SQS: verified findings go to the findings queue the remediator consumes.
 * Batches of 10 (SendMessageBatch); a partly failed batch throws, naming the failed finding ids,
 * so the caller's record is retried (publishing the others again is harmless: remediation of a
 * finding is idempotent on its id).
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PushGuardError } from '../domain/errors.ts';
import type { Finding } from '../domain/types.ts';
import type { FindingPublisher } from '../ports.ts';

/** Some findings could not be enqueued. */
export class FindingPublishError extends PushGuardError {}

export class SqsFindingPublisher implements FindingPublisher {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string
  ) {}

  async publish(findings: readonly Finding[]): Promise<void> {
    const failed: string[] = [];
    for (let i = 0; i < findings.length; i += 10) {
      const chunk = findings.slice(i, i + 10);
      const out = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((f, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify(f),
            MessageAttributes: { findingId: { DataType: 'String', StringValue: f.id } },
          })),
        })
      );
      for (const e of out.Failed ?? []) failed.push(chunk[Number(e.Id)]?.id ?? String(e.Id));
    }
    if (failed.length > 0) {
      throw new FindingPublishError(`could not enqueue findings: ${failed.join(', ')}`);
    }
  }
}
