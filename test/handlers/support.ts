/** Event shapes and helpers for handler tests (real API Gateway / SQS record shapes). */
import { readFileSync } from 'node:fs';
import type { SqsEvent, SqsRecord } from '@aws-lambda-powertools/parser/types';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, Context, SQSEvent } from 'aws-lambda';

export function fixture(path: string): string {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
}

/** A Lambda context WITHOUT getRemainingTimeInMillis: middy sets no early timeout. */
export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
  } as unknown as Context;
}

/** An API Gateway REST (v1) Lambda-proxy event for `POST /harbor`. */
export function apiEvent(
  body: string | null,
  headers: Record<string, string> = {},
  isBase64Encoded = false
): APIGatewayProxyEvent {
  return {
    resource: '/harbor',
    path: '/harbor',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'Go-http-client/1.1', ...headers },
    multiValueHeaders: Object.fromEntries(
      Object.entries({ 'Content-Type': 'application/json', ...headers }).map(([k, v]) => [k, [v]])
    ),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      httpMethod: 'POST',
      path: '/v1/harbor',
      protocol: 'HTTP/1.1',
      requestId: `api-${Math.random().toString(16).slice(2)}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'res1',
      resourcePath: '/harbor',
      stage: 'v1',
      identity: { sourceIp: '10.20.3.41', userAgent: 'Go-http-client/1.1' },
    } as APIGatewayProxyEvent['requestContext'],
    body,
    isBase64Encoded,
  };
}

/** An SQS record exactly as the Lambda event source mapping delivers it. */
export function sqsRecord(body: string, messageId: string): SqsRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: 'x',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:events',
    awsRegion: 'eu-west-1',
  };
}

export function sqsEvent(bodies: string[], idPrefix = 'm'): SqsEvent {
  return { Records: bodies.map((b, i) => sqsRecord(b, `${idPrefix}-${i}`)) };
}

export async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  return out.QueueUrl!;
}

/** Receives (and deletes) every message currently in the queue. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      })
    );
    const msgs = out.Messages ?? [];
    if (msgs.length === 0) return bodies;
    bodies.push(...msgs.map((m) => m.Body ?? ''));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      })
    );
  }
}

/** The same event typed as aws-lambda's SQSEvent (what Powertools' BatchProcessor takes). */
export function sqsLambdaEvent(bodies: string[], idPrefix = 'm'): SQSEvent {
  return sqsEvent(bodies, idPrefix) as unknown as SQSEvent;
}
