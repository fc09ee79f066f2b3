/**
 * CloudFormation intrinsics of the synthesized templates, resolved for a local run: pseudo
 * parameters to the app's account and region, cross-stack imports to the stateful stack's
 * resources, and resources to what stands in for them (local queue URLs and topic ARNs when
 * resolving an environment; canonical ARNs when resolving a policy).
 */
import { ACCOUNT, type Artifact, REGION, type Template } from './synth.ts';

export interface LocalResources {
  /** Local URL of the queue standing in for this logical id. */
  queueUrl(logicalId: string): string;
  /** ARN of the topic standing in for this logical id. */
  topicArn(logicalId: string): string;
}

export const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
export const topicArn = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::URLSuffix': 'amazonaws.com',
};

export function makeResolver(art: Artifact, locals?: LocalResources) {
  const exportsByName = new Map<string, unknown>();
  for (const o of Object.values(art.stateful.Outputs ?? {})) {
    if (o.Export) exportsByName.set(o.Export.Name, o.Value);
  }
  const ref = (t: Template, id: string): string => {
    if (id in PSEUDO) return PSEUDO[id] as string;
    const r = t.Resources[id];
    if (!r) throw new Error(`Ref to unknown ${id}`);
    if (r.Type === 'AWS::SQS::Queue') {
      if (!locals) return queueArn(id);
      return locals.queueUrl(id);
    }
    if (r.Type === 'AWS::SNS::Topic') return locals ? locals.topicArn(id) : topicArn(id);
    if (r.Type === 'AWS::S3::Bucket') return String(r.Properties?.BucketName ?? id);
    throw new Error(`no local stand-in for Ref ${id} (${r.Type})`);
  };
  const getAtt = (t: Template, id: string, attr: string): string => {
    const r = t.Resources[id];
    if (!r) throw new Error(`GetAtt of unknown ${id}`);
    if (r.Type === 'AWS::SQS::Queue' && attr === 'Arn') return queueArn(id);
    if (r.Type === 'AWS::SQS::Queue' && attr === 'QueueName') return id;
    if (r.Type === 'AWS::SNS::Topic' && attr === 'TopicArn') return topicArn(id);
    if (r.Type === 'AWS::KMS::Key' && attr === 'Arn')
      return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
    if (r.Type === 'AWS::S3::Bucket' && attr === 'Arn') return `arn:aws:s3:::${ref(t, id)}`;
    throw new Error(`no local stand-in for GetAtt ${id}.${attr} (${r.Type})`);
  };
  const resolveIn = (t: Template, v: unknown): unknown => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (Array.isArray(v)) return v.map((x) => resolveIn(t, x));
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('Ref' in o) return ref(t, String(o.Ref));
      if ('Fn::GetAtt' in o) {
        const [id, attr] = o['Fn::GetAtt'] as [string, string];
        return getAtt(t, id, attr);
      }
      if ('Fn::Join' in o) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map((p) => String(resolveIn(t, p))).join(sep);
      }
      if ('Fn::ImportValue' in o) {
        const name = String(o['Fn::ImportValue']);
        if (!exportsByName.has(name)) throw new Error(`no stateful export ${name}`);
        return resolveIn(art.stateful, exportsByName.get(name));
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolveIn(t, x)]));
    }
    return v;
  };
  return {
    /** A value of the pipeline template. */
    resolve: (v: unknown) => resolveIn(art.pipeline, v),
  };
}
