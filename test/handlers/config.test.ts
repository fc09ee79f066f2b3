/** Lambda runtime configuration: each function reads only its sections; one error lists all. */
import { describe, expect, it } from 'vitest';
import { loadConfig, redisUrl } from '../../lambdas/config.ts';
import { ConfigError } from '../../lambdas/domain/errors.ts';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pushguard/x-AbCdEf';
const base = {
  REDIS_HOST: 'redis.internal',
  REDIS_STATE_DB: '9',
  EVENTS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/events',
  WEBHOOK_SECRET_ARNS: `${SECRET},${SECRET.replace('x-', 'y-')}`,
};

describe('loadConfig()', () => {
  it('parses what the webhook function needs, with defaults', () => {
    const c = loadConfig('webhook', base);
    expect(c.redis).toEqual({
      host: 'redis.internal',
      port: 6379,
      tls: true,
      authSecretArn: undefined,
      stateDb: 9,
    });
    expect(c.webhook.secretArns).toHaveLength(2);
    expect(redisUrl(c.redis, 1)).toBe('rediss://redis.internal:6379/1');
  });

  it('lists every missing or invalid variable of the function at once', () => {
    let error: unknown;
    try {
      loadConfig('remediate', { REDIS_HOST: 'h', REDIS_STATE_DB: 'x', PUSHGUARD_MODE: 'yolo' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const fields = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(fields).toEqual(
      expect.arrayContaining([
        'REDIS_STATE_DB',
        'REGISTRY_BUCKET',
        'REGISTRY_DB',
        'PUSHGUARD_MODE',
        'HARBOR_HOST',
        'AUDIT_BUCKET',
        'FINDINGS_TOPIC_ARN',
      ])
    );
  });

  it('asks notify for nothing but its optional integrations, all-or-nothing per tool', () => {
    expect(loadConfig('notify', {}).integrations).toEqual({
      slack: undefined,
      jira: undefined,
      github: undefined,
    });
    expect(() => loadConfig('notify', { JIRA_BASE_URL: 'https://x.atlassian.net' })).toThrow(
      /JIRA_\*: set all of/
    );
    expect(loadConfig('notify', { SLACK_WEBHOOK_SECRET_ARN: SECRET }).integrations.slack).toEqual({
      webhookSecretArn: SECRET,
      channel: undefined,
    });
  });
});
