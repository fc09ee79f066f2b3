import { afterEach, describe, expect, it } from 'vitest';
import {
  startWebhookServer,
  type WebhookHttpRequest,
  type WebhookServer,
} from '../../lambdas/local/webhook-server.ts';

describe('local webhook server', () => {
  let server: WebhookServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('listens on 127.0.0.1 and passes headers and body to the ingress, returning its answer', async () => {
    const got: WebhookHttpRequest[] = [];
    server = await startWebhookServer({
      port: 0,
      maxBodyBytes: 64,
      handle: async (req) => {
        got.push(req);
        return { statusCode: 202, body: '{"message":"accepted"}' };
      },
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret', 'content-type': 'application/json' },
      body: '{"type":"PUSH_ARTIFACT"}',
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ message: 'accepted' });
    expect(got[0]?.headers.authorization).toBe('Bearer s3cret');
    expect(got[0]?.body).toBe('{"type":"PUSH_ARTIFACT"}');
  });

  it('keeps at most limit + 1 bytes of a huge body, so the ingress can answer 413', async () => {
    const lengths: number[] = [];
    server = await startWebhookServer({
      port: 0,
      maxBodyBytes: 1024,
      handle: async (req) => {
        lengths.push(req.body.length);
        return { statusCode: req.body.length > 1024 ? 413 : 202, body: '{}' };
      },
    });
    const res = await fetch(server.url, { method: 'POST', body: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(413);
    expect(lengths).toEqual([1025]);
  });

  it('answers 404 off the root path, 405 for other methods and 500 when the ingress throws', async () => {
    const errors: unknown[] = [];
    server = await startWebhookServer({
      port: 0,
      maxBodyBytes: 64,
      handle: async () => {
        throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    expect((await fetch(`${server.url}other`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(server.url)).status).toBe(405);
    const res = await fetch(server.url, { method: 'POST', body: '{}' });
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('boom');
    expect(errors).toHaveLength(1);
  });
});
