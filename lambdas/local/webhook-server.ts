/**
 * The Harbor webhook endpoint of `pushguard local`: a node:http server on 127.0.0.1 that hands
 * each POST to the same runtime-neutral ingress as the Lambda (lambdas/app/webhook-ingress.ts).
 * Bodies are kept up to one byte past the ingress limit (the rest is drained), so a huge body costs
 * no memory and still gets the ingress's 413.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookHttpRequest {
  headers: Record<string, string | undefined>;
  body: string;
}

export interface WebhookHttpResponse {
  statusCode: number;
  body: string;
}

export interface WebhookServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Largest body passed on; anything longer is cut at limit + 1 bytes. */
  maxBodyBytes: number;
  handle(request: WebhookHttpRequest): Promise<WebhookHttpResponse>;
  onError?(err: unknown): void;
}

export interface WebhookServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function readCapped(req: IncomingMessage, cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Past the cap the rest is drained, not kept: the client still gets its answer.
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    if (size < cap) chunks.push(buf.subarray(0, cap - size));
    size += buf.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function flatHeaders(req: IncomingMessage): Record<string, string | undefined> {
  // header names come from the client: a null-prototype object (a `__proto__` header is a name)
  const out: Record<string, string | undefined> = Object.create(null);
  for (const [k, v] of Object.entries(req.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/') return send(404, '{"message":"not found"}');
    if (req.method !== 'POST') return send(405, '{"message":"method not allowed"}');
    readCapped(req, options.maxBodyBytes + 1)
      .then((body) => options.handle({ headers: flatHeaders(req), body }))
      .then((r) => send(r.statusCode, r.body))
      .catch((err: unknown) => {
        options.onError?.(err);
        if (!res.headersSent) send(500, '{"message":"internal error"}');
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
