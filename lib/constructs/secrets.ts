/**
 * Imports the secrets PushGuard reads (never creates or stores secret values).
 *
 * Default settings: every secret is imported by its COMPLETE ARN so read grants name exactly that
 * secret (a partial ARN would need a `-??????` wildcard). Functions get each secret's ARN in their
 * environment and read the value at run time (cached), never the value itself.
 */
import * as sm from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { assertValidProps } from './props.ts';

export interface PushGuardSecretsProps {
  /** Current webhook `Authorization` value. */
  readonly webhookSecretArn: string;
  /**
   * Previous webhook value, accepted while rotating.
   * @default - none
   */
  readonly previousWebhookSecretArn?: string;
  /**
   * Redis AUTH password.
   * @default - no AUTH
   */
  readonly redisAuthSecretArn?: string;
  /**
   * Slack incoming-webhook URL.
   * @default - no Slack
   */
  readonly slackWebhookSecretArn?: string;
  /**
   * Jira API token.
   * @default - no Jira
   */
  readonly jiraTokenSecretArn?: string;
  /**
   * GitHub token (issues: write).
   * @default - no GitHub
   */
  readonly githubTokenSecretArn?: string;
}

const COMPLETE_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;

export class PushGuardSecrets extends Construct {
  public readonly webhook: sm.ISecret[];
  public readonly redisAuth?: sm.ISecret;
  public readonly slackWebhook?: sm.ISecret;
  public readonly jiraToken?: sm.ISecret;
  public readonly githubToken?: sm.ISecret;

  constructor(scope: Construct, id: string, props: PushGuardSecretsProps) {
    super(scope, id);
    const entries = Object.entries(props).filter(([, v]) => v !== undefined) as [string, string][];
    assertValidProps(
      'PushGuardSecrets',
      entries
        .filter(([, arn]) => !COMPLETE_ARN.test(arn))
        .map(([k, arn]) => `${k} must be a complete secret ARN, got ${arn}`)
    );
    const imp = (name: string, arn?: string) =>
      arn ? sm.Secret.fromSecretCompleteArn(this, name, arn) : undefined;
    this.webhook = [
      imp('Webhook', props.webhookSecretArn)!,
      ...(props.previousWebhookSecretArn
        ? [imp('WebhookPrevious', props.previousWebhookSecretArn)!]
        : []),
    ];
    this.redisAuth = imp('RedisAuth', props.redisAuthSecretArn);
    this.slackWebhook = imp('SlackWebhook', props.slackWebhookSecretArn);
    this.jiraToken = imp('JiraToken', props.jiraTokenSecretArn);
    this.githubToken = imp('GithubToken', props.githubTokenSecretArn);
  }
}
