/**
 * An S3 front for fauxqs (which ignores `If-None-Match` on PutObject) that honours it as S3
 * documents: a `PUT` object with `If-None-Match: *` on an existing key answers
 * 412 PreconditionFailed (XML error body) and writes nothing; everything else is forwarded
 * unchanged. Path-style requests only (what the SDK sends to an IP endpoint).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConditionalS3 {
  endpoint: string;
  /** PUTs refused with 412. */
  refused: string[];
  /** While true, object reads (GET, HEAD) answer 503 SlowDown, as an overloaded S3 does. */
  readsDown: boolean;
  stop(): Promise<void>;
}

function isObjectPut(method: string | undefined, url: URL): boolean {
  const parts = url.pathname.split('/').filter(Boolean);
  return method === 'PUT' && parts.length >= 2 && !url.searchParams.has('uploadId');
}

export async function startConditionalS3(upstream: string): Promise<ConditionalS3> {
  const up = new URL(upstream);
  const refused: string[] = [];
  const front: ConditionalS3 = {
    endpoint: '',
    refused,
    readsDown: false,
    stop: () => new Promise((r) => server.close(() => r())),
  };
  const forward = (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse
  ) => {
    const out = request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      }
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (front.readsDown && (req.method === 'GET' || req.method === 'HEAD')) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(
        req.method === 'HEAD'
          ? undefined
          : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>' +
              '<Message>Please reduce your request rate.</Message></Error>'
      );
      return;
    }
    if (!isObjectPut(req.method, url) || req.headers['if-none-match'] !== '*') {
      forward(req, res);
      return;
    }
    const head = request(
      { host: up.hostname, port: up.port, method: 'HEAD', path: url.pathname },
      (r) => {
        r.resume();
        if (r.statusCode === 200) {
          refused.push(decodeURIComponent(url.pathname));
          req.resume();
          res.writeHead(412, { 'content-type': 'application/xml' });
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code>' +
              '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
              '<Condition>If-None-Match</Condition></Error>'
          );
          return;
        }
        forward(req, res);
      }
    );
    head.on('error', () => res.destroy());
    head.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  front.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return front;
}
