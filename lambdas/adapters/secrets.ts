/**
 * Secret values from Secrets Manager, cached per ARN for `maxAgeMs` (rotation is picked up once
 * the cache expires). A secret that is JSON with a `password`, `value`, `token` or `url` field
 * yields that field; otherwise the whole string.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../domain/errors.ts';

export class SecretsManagerSecrets {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly client: Pick<SecretsManagerClient, 'send'>,
    private readonly maxAgeMs = 5 * 60_000,
    private readonly now: () => number = Date.now
  ) {}

  async get(arn: string): Promise<string> {
    const hit = this.cache.get(arn);
    if (hit && hit.until > this.now()) return hit.value;
    let out: { SecretString?: string };
    try {
      out = await this.client.send(new GetSecretValueCommand({ SecretId: arn }));
    } catch (err) {
      throw secretFailure(arn, err);
    }
    const raw = out.SecretString;
    if (raw === undefined) throw new ConfigError([`secret ${arn} has no string value`]);
    const value = pickField(raw);
    this.cache.set(arn, { value, until: this.now() + this.maxAgeMs });
    return value;
  }

  /** Every value, in order (e.g. current then previous webhook secret). */
  async getAll(arns: readonly string[]): Promise<string[]> {
    return Promise.all(arns.map((a) => this.get(a)));
  }
}

function pickField(raw: string): string {
  if (!raw.trimStart().startsWith('{')) return raw;
  try {
    const obj = JSON.parse(raw) as Record<string, unknown>;
    for (const k of ['password', 'value', 'token', 'url']) {
      if (typeof obj[k] === 'string') return obj[k] as string;
    }
  } catch {
    // not JSON after all: the whole string is the secret
  }
  return raw;
}

/** A secret that cannot be read, with the cause named (missing, not allowed, wrong region...). */
function secretFailure(arn: string, err: unknown): Error {
  const name = (err as { name?: string }).name ?? '';
  const region = arn.split(':')[3] ?? '?';
  if (name === 'ResourceNotFoundException') {
    return new ConfigError([
      `secret ${arn} not found (ResourceNotFoundException): check the ARN, and that it is in ${region}, the region the function reads it in`,
    ]);
  }
  if (name === 'AccessDeniedException') {
    return new ConfigError([`secret ${arn}: the function's role may not read it (AccessDenied)`]);
  }
  if (name === 'DecryptionFailure') {
    return new ConfigError([`secret ${arn}: its KMS key may not be used by the function's role`]);
  }
  return err instanceof Error ? err : new Error(String(err));
}
