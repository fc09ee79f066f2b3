/**
 * The pipeline's event queue on SQS (standard queue): accepted webhook deliveries are enqueued
 * here next to the bucket's S3 notifications. The dedupe id travels as a message attribute (a
 * standard queue has no MessageDeduplicationId; dedupe happened before sending).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export class SqsEventQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string
  ) {}

  async send(body: string, dedupeId: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: { dedupeId: { DataType: 'String', StringValue: dedupeId } },
      })
    );
  }
}
