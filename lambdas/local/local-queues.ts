/**
 * The queues and topic of `pushguard local`, created in the emulator as the stacks create them in
 * AWS: events and findings queues with DLQs (RedrivePolicy), the findings topic and the
 * notifications queue subscribed to it.
 */
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface LocalQueue {
  url: string;
  arn: string;
  dlqUrl: string;
  dlqArn: string;
}

export interface LocalQueues {
  events: LocalQueue;
  findings: LocalQueue;
  topicArn: string;
}

export async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })
  );
  return out.Attributes?.QueueArn ?? '';
}

/** Creates `name` and its DLQ; returns both URLs and ARNs. */
async function queueWithDlq(
  sqs: SQSClient,
  name: string,
  redrive: { visibility: number; maxReceiveCount: number }
): Promise<LocalQueue> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = await queueArn(sqs, dlq.QueueUrl ?? '');
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(redrive.visibility),
        MaximumMessageSize: '262144',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: redrive.maxReceiveCount,
        }),
      },
    })
  );
  const url = main.QueueUrl ?? '';
  return { url, arn: await queueArn(sqs, url), dlqUrl: dlq.QueueUrl ?? '', dlqArn };
}

export async function createLocalQueues(
  clients: { sqs: SQSClient; sns: SNSClient },
  redrive: { visibility: number; maxReceiveCount: number }
): Promise<LocalQueues> {
  const { sqs, sns } = clients;
  const events = await queueWithDlq(sqs, 'pushguard-events', redrive);
  const findings = await queueWithDlq(sqs, 'pushguard-findings', redrive);
  const topic = await sns.send(new CreateTopicCommand({ Name: 'pushguard-findings' }));
  const topicArn = topic.TopicArn ?? '';
  const notifications = await sqs.send(
    new CreateQueueCommand({ QueueName: 'pushguard-notifications' })
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: await queueArn(sqs, notifications.QueueUrl ?? ''),
    })
  );
  return { events, findings, topicArn };
}
