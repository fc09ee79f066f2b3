/**
 * Secrets Manager stand-in on 127.0.0.1: GetSecretValue over the documented AWS JSON 1.1 protocol
 * (POST /, `X-Amz-Target: secretsmanager.GetSecretValue`, `Content-Type:
 * application/x-amz-json-1.1`, a SigV4 `Authorization`). An unknown SecretId answers 400
 * ResourceNotFoundException; anything else that is not such a request answers 400 too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsStandIn {
  endpoint: string;
  /** SecretIds asked for, in order. */
  asked: string[];
  /** Requests that broke the protocol (should stay empty). */
  refused: string[];
  stop(): Promise<void>;
}

export async function startSecretsManager(secrets: Map<string, string>): Promise<SecretsStandIn> {
  const asked: string[] = [];
  const refused: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      const target = String(req.headers['x-amz-target']);
      const ok =
        req.method === 'POST' &&
        target === 'secretsmanager.GetSecretValue' &&
        String(req.headers['content-type']).startsWith('application/x-amz-json-1.1') &&
        String(req.headers.authorization).startsWith('AWS4-HMAC-SHA256');
      let id: string | undefined;
      try {
        id = (JSON.parse(body) as { SecretId?: string }).SecretId;
      } catch {
        id = undefined;
      }
      if (!ok || typeof id !== 'string') {
        refused.push(`${req.method} ${target}`);
        answer(400, { __type: 'InvalidRequestException', message: 'bad request' });
        return;
      }
      asked.push(id);
      const value = secrets.get(id);
      if (value === undefined) {
        answer(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      const name = id.split(':secret:')[1] ?? id;
      answer(200, {
        ARN: id,
        Name: name,
        SecretString: value,
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    refused,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
