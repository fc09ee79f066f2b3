/**
 * PreflightAws on the AWS SDK: S3 GetBucketNotificationConfiguration, API Gateway GetAccount,
 * Lambda GetAccountSettings, EC2 DescribeRouteTables and DescribeVpcEndpoints. Read-only calls
 * with the caller's credentials; endpoints from AWS_ENDPOINT_URL_* (or `endpoints`) like every
 * client here.
 */
import { APIGatewayClient, GetAccountCommand } from '@aws-sdk/client-api-gateway';
import {
  DescribeRouteTablesCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import type { BucketNotificationRule, PreflightAws } from '../ports.ts';

export interface AwsPreflightOptions {
  region: string;
  /** Per-service endpoint overrides (tests). */
  endpoints?: { s3?: string; apigateway?: string; lambda?: string; ec2?: string };
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

type Filter = { FilterRules?: { Name?: string; Value?: string }[] };

function rule(
  id: string | undefined,
  target: string | undefined,
  events: string[] | undefined,
  filter: { Key?: Filter } | undefined
): BucketNotificationRule {
  const rules = filter?.Key?.FilterRules ?? [];
  const value = (name: string) => rules.find((r) => r.Name?.toLowerCase() === name)?.Value ?? '';
  return {
    id: id ?? '(no id)',
    target: target ?? '?',
    events: events ?? [],
    prefix: value('prefix'),
    suffix: value('suffix'),
  };
}

function target(t: {
  NatGatewayId?: string;
  GatewayId?: string;
  TransitGatewayId?: string;
  InstanceId?: string;
  NetworkInterfaceId?: string;
  VpcPeeringConnectionId?: string;
}): string {
  return (
    t.NatGatewayId ??
    t.GatewayId ??
    t.TransitGatewayId ??
    t.InstanceId ??
    t.NetworkInterfaceId ??
    t.VpcPeeringConnectionId ??
    '?'
  );
}

export class AwsPreflight implements PreflightAws {
  private readonly s3: S3Client;
  private readonly apigw: APIGatewayClient;
  private readonly lambda: LambdaClient;
  private readonly ec2: EC2Client;

  constructor(options: AwsPreflightOptions) {
    const base = { region: options.region, credentials: options.credentials };
    const e = options.endpoints ?? {};
    this.s3 = new S3Client({ ...base, endpoint: e.s3, forcePathStyle: e.s3 !== undefined });
    this.apigw = new APIGatewayClient({ ...base, endpoint: e.apigateway });
    this.lambda = new LambdaClient({ ...base, endpoint: e.lambda });
    this.ec2 = new EC2Client({ ...base, endpoint: e.ec2 });
  }

  async bucketNotifications(bucket: string) {
    const out = await this.s3.send(
      new GetBucketNotificationConfigurationCommand({ Bucket: bucket })
    );
    const rules = [
      ...(out.QueueConfigurations ?? []).map((q) => rule(q.Id, q.QueueArn, q.Events, q.Filter)),
      ...(out.TopicConfigurations ?? []).map((t) => rule(t.Id, t.TopicArn, t.Events, t.Filter)),
      ...(out.LambdaFunctionConfigurations ?? []).map((l) =>
        rule(l.Id, l.LambdaFunctionArn, l.Events, l.Filter)
      ),
    ];
    return { rules, eventBridge: out.EventBridgeConfiguration !== undefined };
  }

  async apiGatewayCloudWatchRole(): Promise<string | undefined> {
    const out = await this.apigw.send(new GetAccountCommand({}));
    return out.cloudwatchRoleArn || undefined;
  }

  async concurrency() {
    const out = await this.lambda.send(new GetAccountSettingsCommand({}));
    return {
      limit: out.AccountLimit?.ConcurrentExecutions ?? 0,
      unreserved: out.AccountLimit?.UnreservedConcurrentExecutions ?? 0,
    };
  }

  async subnetRoutes(vpcId: string, subnetIds: readonly string[]) {
    const out = await this.ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })
    );
    const tables = out.RouteTables ?? [];
    const main = tables.find((t) => t.Associations?.some((a) => a.Main));
    const tableOf = (subnet: string): RouteTable | undefined =>
      tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnet)) ?? main;
    return subnetIds.map((subnetId) => {
      const t = tableOf(subnetId);
      return {
        subnetId,
        routeTableId: t?.RouteTableId,
        routes: (t?.Routes ?? []).map((r) => ({
          destination: r.DestinationCidrBlock ?? r.DestinationPrefixListId ?? '?',
          target: target(r),
        })),
      };
    });
  }

  async vpcEndpoints(vpcId: string) {
    const out = await this.ec2.send(
      new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })
    );
    return (out.VpcEndpoints ?? []).map((e) => ({
      service: e.ServiceName ?? '',
      type: String(e.VpcEndpointType ?? ''),
      privateDns: e.PrivateDnsEnabled ?? false,
      routeTableIds: e.RouteTableIds ?? [],
    }));
  }

  destroy(): void {
    for (const c of [this.s3, this.apigw, this.lambda, this.ec2]) c.destroy();
  }
}
