/**
 * fauxqs in-process on 127.0.0.1 (its CLI binds 0.0.0.0), for tests that need plain S3/SQS/SNS.
 * `pushguard local` adds S3 event notifications and the registry gaps on top; see lambdas/local.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';

export interface TestAws {
  endpoint: string;
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
  stop(): Promise<void>;
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export async function startFauxqs(): Promise<TestAws> {
  const app = buildApp({ logger: false, host: '127.0.0.1' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const endpoint = `http://127.0.0.1:${port}`;
  const common = { endpoint, region: 'us-east-1', credentials };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const sqs = new SQSClient(common);
  const sns = new SNSClient(common);
  return {
    endpoint,
    s3,
    sqs,
    sns,
    stop: async () => {
      s3.destroy();
      sqs.destroy();
      sns.destroy();
      await app.close();
    },
  };
}
