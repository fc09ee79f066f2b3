/**
 * Test helpers for the local S3 emulator: an emulator on a free 127.0.0.1 port, an S3 client set up
 * the way the registry's s3aws driver (aws-sdk-go v1) talks to it (path style, us-east-1, static
 * credentials, no flexible checksums), an SQS client, and raw HTTP for what the JS SDK can't send.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  ADDITIONS,
  type S3Emulator,
  startS3Emulator,
} from '../../../lambdas/local/s3-emulator/emulator.ts';
import type { S3Addition } from '../../../lambdas/local/s3-emulator/s3-call.ts';

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface TestEmulator {
  emu: S3Emulator;
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  stop(): Promise<void>;
}

export function s3ClientFor(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function startTestEmulator(
  opts: { additions?: readonly S3Addition[]; bucket?: string } = {}
): Promise<TestEmulator> {
  const bucket = opts.bucket ?? 'registry';
  const emu = await startS3Emulator({ port: 0, buckets: [bucket], additions: opts.additions });
  const s3 = s3ClientFor(emu.endpoint);
  const sqs = new SQSClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials });
  return {
    emu,
    s3,
    sqs,
    bucket,
    stop: async () => {
      s3.destroy();
      sqs.destroy();
      await emu.close();
    },
  };
}

/** fauxqs plus every addition except `without`: shows the gap that addition closes. */
export function additionsWithout(without: S3Addition): S3Addition[] {
  return ADDITIONS.filter((a) => a !== without);
}

/** Creates a queue and routes the bucket's notifications to it. */
export async function notificationQueue(t: TestEmulator, name = 'events'): Promise<string> {
  const out = await t.sqs.send(new CreateQueueCommand({ QueueName: name }));
  const url = out.QueueUrl ?? '';
  t.emu.notify(t.bucket, `arn:aws:sqs:us-east-1:000000000000:${name}`);
  return url;
}

/** Every message body in the queue right now (they are enqueued synchronously). */
export async function drain(t: Pick<TestEmulator, 'sqs'>, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const out = await t.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 })
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return bodies;
    bodies.push(...messages.map((m) => m.Body ?? ''));
  }
}

/** A raw HTTP request to the emulator (unsigned: fauxqs does not check signatures). */
export async function raw(
  t: TestEmulator,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {}
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${t.emu.endpoint}${path}`, {
    method,
    headers: init.headers,
    body: init.body,
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
