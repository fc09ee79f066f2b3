/**
 * IAM conformance of recorded AWS calls: each SDK call (client, command, input, status) becomes
 * the IAM request(s) AWS authorizes for it, evaluated with @cloud-copilot/iam-simulate against
 * the function's synthesized role statements. Also: which grants no call used, and whether each
 * used grant is needed (taking it away denies some call).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { AwsCall } from '../../../lambdas/handlers/compose/aws-client.ts';
import { queueArn, topicArn } from './resolve.ts';
import { ACCOUNT } from './synth.ts';

export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string>;
  /** What made it, for messages. */
  from: string;
}

type Input = Record<string, unknown>;

/** SQS queue URL → queue ARN (the queue's name is its last path segment). */
const arnOfQueueUrl = (url: string) => queueArn(url.split('/').pop() ?? url);
/** Topic ARN with the stand-in's account → the app's. */
const canonicalTopic = (arn: string) => topicArn(arn.split(':').pop() ?? arn);

/** The IAM request(s) AWS checks for one call, as the services document them. */
export function iamRequestsOf(call: AwsCall): IamRequest[] {
  const i = (call.input ?? {}) as Input;
  const from = `${call.client}.${call.command}`;
  const obj = () => `arn:aws:s3:::${i.Bucket}/${i.Key}`;
  const bucket = () => `arn:aws:s3:::${i.Bucket}`;
  const one = (action: string, resource: string, context: Record<string, string> = {}) => ({
    action,
    resource,
    context,
    from,
  });
  switch (`${call.client}.${call.command}`) {
    case 'S3Client.HeadObjectCommand':
    case 'S3Client.GetObjectCommand':
      // S3 answers 404 for a missing key only to a caller allowed to list the bucket.
      return call.status === 404
        ? [one('s3:GetObject', obj()), one('s3:ListBucket', bucket())]
        : [one('s3:GetObject', obj())];
    case 'S3Client.PutObjectCommand':
      return [one('s3:PutObject', obj())];
    case 'S3Client.ListObjectsV2Command':
      return [one('s3:ListBucket', bucket(), i.Prefix ? { 's3:prefix': String(i.Prefix) } : {})];
    case 'S3Client.HeadBucketCommand':
      return [one('s3:ListBucket', bucket())];
    case 'SQSClient.SendMessageCommand':
    case 'SQSClient.SendMessageBatchCommand':
      return [one('sqs:SendMessage', arnOfQueueUrl(String(i.QueueUrl)))];
    case 'SNSClient.PublishCommand':
      return [one('sns:Publish', canonicalTopic(String(i.TopicArn)))];
    case 'SecretsManagerClient.GetSecretValueCommand':
      return [one('secretsmanager:GetSecretValue', String(i.SecretId))];
    default:
      throw new Error(`no IAM mapping for ${from}: add it to test/artifact/support/iam.ts`);
  }
}

export type Statement = Record<string, unknown>;

async function allowed(statements: Statement[], req: IamRequest): Promise<boolean> {
  const res = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:role/pushguard-function`,
        action: req.action,
        resource: { resource: req.resource, accountId: ACCOUNT },
        contextVariables: req.context,
      },
      identityPolicies: [
        { name: 'role', policy: { Version: '2012-10-17', Statement: statements } },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {}
  );
  if (res.resultType === 'error') {
    throw new Error(
      `iam-simulate refused ${req.action} ${req.resource}: ${JSON.stringify(res.errors)}`
    );
  }
  return res.overallResult === 'Allowed';
}

/** Requests the statements deny. */
export async function denied(statements: Statement[], reqs: IamRequest[]): Promise<IamRequest[]> {
  const out: IamRequest[] = [];
  for (const r of reqs) if (!(await allowed(statements, r))) out.push(r);
  return out;
}

const asArray = <T>(v: T | T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

export interface Grant {
  statement: number;
  action: string;
  resource: string;
}

/** Every (statement, action) of the role, one resource string each (for messages). */
export function grantsOf(statements: Statement[]): Grant[] {
  return statements.flatMap((s, statement) =>
    asArray(s.Action as string | string[]).map((action) => ({
      statement,
      action,
      resource: asArray(s.Resource as string | string[]).join(','),
    }))
  );
}

/** The grants (statement, action) that allow at least one request. */
export async function usedGrants(statements: Statement[], reqs: IamRequest[]): Promise<Grant[]> {
  const used: Grant[] = [];
  for (const g of grantsOf(statements)) {
    const only = [{ ...statements[g.statement], Action: g.action }];
    for (const r of reqs) {
      if (await allowed(only, r)) {
        used.push(g);
        break;
      }
    }
  }
  return used;
}

/** The statements with one action taken out of one statement. */
export function without(statements: Statement[], g: Grant): Statement[] {
  return statements.flatMap((s, i) => {
    if (i !== g.statement) return [s];
    const rest = asArray(s.Action as string | string[]).filter((a) => a !== g.action);
    return rest.length === 0 ? [] : [{ ...s, Action: rest }];
  });
}

/** Unique requests (action, resource, context). */
export function uniqueRequests(reqs: IamRequest[]): IamRequest[] {
  const seen = new Map<string, IamRequest>();
  for (const r of reqs) seen.set(JSON.stringify([r.action, r.resource, r.context]), r);
  return [...seen.values()];
}
