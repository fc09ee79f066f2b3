/**
 * An SQS queue (with DLQ) feeding a Lambda function.
 *
 * Default settings: `reportBatchItemFailures` (a bad record fails alone), batch size 10, no
 * batching window, MaximumConcurrency 2 (a built-in rate limit). Refuses a queue whose visibility
 * timeout is below 6× the function timeout (Lambda would redeliver records still being processed).
 */
import type { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { assertValidProps } from './props.ts';
import type { QueueWithDlq } from './queue-with-dlq.ts';

export interface SqsToLambdaProps {
  /** Source queue and its DLQ. */
  readonly queue: QueueWithDlq;
  /** Consumer. */
  readonly function: lambda.IFunction;
  /** Consumer's timeout (visibility must be ≥ 6× it). */
  readonly functionTimeout: Duration;
  /**
   * Records per invocation (1..10000; above 10 needs a batching window ≥ 1 s).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Batching window (0..300 s).
   * @default - none
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * ScalingConfig.MaximumConcurrency (2..1000).
   * @default 2
   */
  readonly maxConcurrency?: number;
}

export class SqsToLambda extends Construct {
  public readonly eventSource: sources.SqsEventSource;

  constructor(scope: Construct, id: string, props: SqsToLambdaProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? 10;
    const maxConcurrency = props.maxConcurrency ?? 2;
    const windowS = props.maxBatchingWindow?.toSeconds() ?? 0;
    const problems: string[] = [];
    const vis = props.queue.visibilityTimeout.toSeconds();
    const timeout = props.functionTimeout.toSeconds();
    if (vis < 6 * timeout) {
      problems.push(
        `queue visibility timeout (${vis} s) must be at least 6× the function timeout (${timeout} s)`
      );
    }
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
      problems.push(`batchSize must be 1..10000, got ${batchSize}`);
    }
    if (batchSize > 10 && windowS < 1) {
      problems.push('batchSize above 10 needs a maxBatchingWindow of at least 1 s');
    }
    if (windowS > 300) problems.push(`maxBatchingWindow must be ≤ 300 s, got ${windowS} s`);
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
      problems.push(`maxConcurrency must be 2..1000, got ${maxConcurrency}`);
    }
    assertValidProps('SqsToLambda', problems);

    this.eventSource = new sources.SqsEventSource(props.queue.queue, {
      batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency,
      reportBatchItemFailures: true,
    });
    props.function.addEventSource(this.eventSource);
  }
}
