/**
 * The Lambda functions of the pipeline, and the network they share.
 *
 * Default settings (PipelineFunction): NodejsFunction on nodejs22.x, ARM64, esbuild ESM bundle with
 * source maps (NODE_OPTIONS=--enable-source-maps), AWS SDK v3 bundled (or the runtime's), an explicit log
 * group with 30 days retention, JSON logs (INFO / WARN), active tracing, 30 s timeout, 512 MB, the
 * Powertools environment, and the VPC, subnets and security group of a FunctionNetwork.
 *
 * Default settings (FunctionNetwork): the user's VPC and private subnets imported by id; a new
 * security group with NO default egress: only TCP to Redis (its CIDR or security group, on its
 * port) and HTTPS (AWS APIs through NAT or VPC endpoints, Slack, Jira, GitHub).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { assertValidProps } from './props.ts';

/**
 * The window store's Lua scripts. Found from this module (lib/constructs/, or dist/cdk/ in the
 * package: the same depth), not from the bundling input dir: in a CDK app that installs PushGuard
 * that is the app's own project root.
 */
const LUA_DIR = fileURLToPath(new URL('../../lambdas/adapters/lua/', import.meta.url));

export interface FunctionNetworkProps {
  /** Existing VPC id. */
  readonly vpcId: string;
  /** Private subnets (with NAT or VPC endpoints) the functions run in. */
  readonly subnetIds: readonly string[];
  /** Redis port. */
  readonly redisPort: number;
  /**
   * CIDR of the Redis endpoint(s).
   * @default - none (then redisSecurityGroupId or securityGroupId is required)
   */
  readonly redisCidr?: string;
  /**
   * Security group of Redis; egress to it on `redisPort`.
   * @default - none
   */
  readonly redisSecurityGroupId?: string;
  /**
   * `vpc-endpoints`: create endpoints for S3 (gateway, on `routeTableIds`), SQS, SNS and Secrets
   * Manager (interface, private DNS) in the subnets; `nat`: the subnets' NAT is used.
   * @default 'nat'
   */
  readonly egress?: 'nat' | 'vpc-endpoints';
  /**
   * Route tables of the subnets (S3 gateway endpoint).
   * @default - none (required with `vpc-endpoints`)
   */
  readonly routeTableIds?: readonly string[];
  /**
   * Use this existing security group as is instead of creating one.
   * @default - a new security group with egress to Redis and HTTPS only
   */
  readonly securityGroupId?: string;
}

export class FunctionNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly subnets: ec2.SubnetSelection;
  public readonly securityGroup: ec2.ISecurityGroup;

  constructor(scope: Construct, id: string, props: FunctionNetworkProps) {
    super(scope, id);
    const problems: string[] = [];
    if (props.subnetIds.length === 0) problems.push('subnetIds must name at least one subnet');
    if (!props.securityGroupId && !props.redisCidr && !props.redisSecurityGroupId) {
      problems.push('one of redisCidr, redisSecurityGroupId or securityGroupId is required');
    }
    if (!Number.isInteger(props.redisPort) || props.redisPort < 1 || props.redisPort > 65535) {
      problems.push(`redisPort must be 1..65535, got ${props.redisPort}`);
    }
    if (props.egress === 'vpc-endpoints' && (props.routeTableIds ?? []).length === 0) {
      problems.push('routeTableIds are required with egress vpc-endpoints (S3 gateway endpoint)');
    }
    assertValidProps('FunctionNetwork', problems);

    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.vpcId,
      availabilityZones: props.subnetIds.map((_, i) => `az-of-subnet-${i}`),
      privateSubnetIds: [...props.subnetIds],
    });
    this.subnets = {
      subnets: props.subnetIds.map((s, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, s)),
    };
    Validations.of(this).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason: 'The subnets are only placed functions into; no route table is read or changed.',
    });
    if (props.securityGroupId) {
      this.securityGroup = ec2.SecurityGroup.fromSecurityGroupId(
        this,
        'SecurityGroup',
        props.securityGroupId,
        { mutable: false }
      );
      return;
    }
    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'PushGuard functions: egress to Redis and HTTPS only',
      allowAllOutbound: false,
    });
    const redisPort = ec2.Port.tcp(props.redisPort);
    if (props.redisCidr) sg.addEgressRule(ec2.Peer.ipv4(props.redisCidr), redisPort, 'Redis');
    if (props.redisSecurityGroupId) {
      const redisSg = ec2.SecurityGroup.fromSecurityGroupId(
        this,
        'RedisSecurityGroup',
        props.redisSecurityGroupId,
        { mutable: false }
      );
      sg.addEgressRule(redisSg, redisPort, 'Redis');
    }
    sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs and SaaS');
    this.securityGroup = sg;
    if (props.egress === 'vpc-endpoints') this.addEndpoints(props.routeTableIds ?? []);
  }

  /** The AWS APIs the VPC functions call, reachable without NAT. */
  private addEndpoints(routeTableIds: readonly string[]): void {
    new ec2.CfnVPCEndpoint(this, 'S3Endpoint', {
      vpcId: this.vpc.vpcId,
      serviceName: `com.amazonaws.${Stack.of(this).region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: [...routeTableIds],
    });
    const endpointSg = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'PushGuard VPC endpoints: HTTPS from the functions only',
      allowAllOutbound: false,
    });
    endpointSg.addIngressRule(this.securityGroup, ec2.Port.tcp(443), 'HTTPS from PushGuard');
    for (const [id, service] of INTERFACE_ENDPOINTS) {
      new ec2.InterfaceVpcEndpoint(this, id, {
        vpc: this.vpc,
        service,
        subnets: this.subnets,
        securityGroups: [endpointSg],
        privateDnsEnabled: true,
        open: false,
      });
    }
  }
}

/** Interface endpoints of `vpc-endpoints` egress (S3 is a gateway endpoint, free). */
export const INTERFACE_ENDPOINTS: readonly [string, ec2.InterfaceVpcEndpointAwsService][] = [
  ['SqsEndpoint', ec2.InterfaceVpcEndpointAwsService.SQS],
  ['SnsEndpoint', ec2.InterfaceVpcEndpointAwsService.SNS],
  ['SecretsManagerEndpoint', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
];

export interface PipelineFunctionProps {
  /** Absolute path of the handler module (exports `handler`). */
  readonly entry: string;
  /** What the function does. */
  readonly description: string;
  /**
   * Network placement.
   * @default - outside any VPC (for functions that need no Redis: AWS APIs and the internet only)
   */
  readonly network?: FunctionNetwork;
  /**
   * Timeout (1 s..15 min).
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB (128..10240).
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Extra environment (non-secret values only; secrets are passed as ARNs).
   * @default - Powertools variables only
   */
  readonly environment?: Record<string, string>;
  /**
   * Log retention.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Reserved concurrency (caps cost and blast radius).
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Powertools service name.
   * @default 'pushguard'
   */
  readonly serviceName?: string;
  /**
   * Bundle the AWS SDK v3 (the version the tests ran) instead of using the runtime's.
   * @default true
   */
  readonly bundleAwsSdk?: boolean;
  /**
   * Dead-letter queue for failed asynchronous invocations.
   * @default - none
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

const NO_DEBUG = fileURLToPath(
  new URL('../../lambdas/handlers/compose/no-debug.cjs', import.meta.url)
);

/** AWS-managed policies the function role carries (logs, ENIs in the VPC; X-Ray segments). */
const managedPolicies = (inVpc: boolean) =>
  [
    inVpc
      ? 'service-role/AWSLambdaVPCAccessExecutionRole'
      : 'service-role/AWSLambdaBasicExecutionRole',
    'AWSXRayDaemonWriteAccess',
  ] as const;

export class PipelineFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly logGroup: logs.LogGroup;
  public readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(30);
    const memorySize = props.memorySize ?? 512;
    const problems: string[] = [];
    if (!existsSync(props.entry)) problems.push(`entry ${props.entry} does not exist`);
    if (timeout.toSeconds() < 1 || timeout.toSeconds() > 900) {
      problems.push(`timeout must be 1 s..15 min, got ${timeout.toSeconds()} s`);
    }
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240) {
      problems.push(`memorySize must be 128..10240 MB, got ${memorySize}`);
    }
    for (const k of Object.keys(props.environment ?? {})) {
      if (/SECRET(?!_ARN)|PASSWORD|TOKEN(?!_SECRET_ARN)/.test(k)) {
        problems.push(`environment.${k} looks like a secret: pass a Secrets Manager ARN instead`);
      }
    }
    assertValidProps('PipelineFunction', problems);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Own role: ENI and X-Ray actions need Resource "*", which stays inside the AWS-managed
    // policies instead of appearing in this template; everything else is granted per resource.
    const policies = managedPolicies(props.network !== undefined);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
      managedPolicies: policies.map((n) => iam.ManagedPolicy.fromAwsManagedPolicyName(n)),
    });
    for (const name of policies) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`,
        reason:
          'Log writes, ENI management (VPC) and X-Ray writes need Resource "*"; the AWS-managed ' +
          'policy holds exactly those actions and keeps the wildcard out of our policies.',
      });
    }
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      role,
      deadLetterQueue: props.deadLetterQueue,
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout,
      memorySize,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.subnets,
      securityGroups: props.network ? [props.network.securityGroup] : undefined,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'pushguard',
        POWERTOOLS_METRICS_NAMESPACE: 'PushGuard',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        platform: 'node',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        externalModules: (props.bundleAwsSdk ?? true) ? [] : ['@aws-sdk/*'],
        // ioredis logs through `debug` only with DEBUG=ioredis:*; a no-op stands in (8 KB less).
        esbuildArgs: { '--alias:debug': NO_DEBUG },
        banner:
          "import { createRequire as __pgCreateRequire } from 'node:module'; const require = __pgCreateRequire(import.meta.url);",
        // The window store's Lua scripts are read from `lua/` next to the module that loads them
        // (lambdas/adapters/redis-window-scripts.ts): next to index.mjs once bundled.
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `mkdir -p "${outputDir}/lua"`,
            `cp "${LUA_DIR}"*.lua "${outputDir}/lua/"`,
          ],
        },
      },
    });
    // Active tracing set on the L1 resource: the L2 `tracing` prop would add an inline
    // xray:* statement on Resource "*" (the managed policy above covers it).
    (this.function.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: 'Active' };
    for (const id of ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion']) {
      Validations.of(this.function).acknowledge({
        id,
        reason:
          'Pinned to nodejs22.x, the Node LTS line PushGuard builds, bundles (esbuild target ' +
          'node22) and tests against; raise it together with the toolchain.',
      });
    }
    this.timeout = timeout;
  }
}
