/**
 * Every retry budget fits inside its function's timeout: notify's Slack delivery (attempts ×
 * per-request deadline + backoffs) and the SaaS HTTP client's per-request budget, which stops
 * retrying (and says so) once another attempt would not fit.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SaasHttp, SaasRequestError } from '../../lambdas/adapters/saas-http.ts';
import { NOTIFY_WORST_MS } from '../../lambdas/handlers/compose/notify.ts';
import { FUNCTION_TIMEOUT_SECONDS } from '../../lib/config.ts';

let server: Server;
let url: string;
let hits = 0;

beforeAll(async () => {
  // Always 503: every attempt is retryable.
  server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"message":"unavailable"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rest/api/3/search`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

describe('retry budgets', () => {
  it("notify's worst delivery fits its timeout", () => {
    expect(NOTIFY_WORST_MS).toBeLessThan(FUNCTION_TIMEOUT_SECONDS.notify * 1000);
  });

  it("SaaS requests stop retrying when the next wait would overrun the budget, within remediate's timeout", async () => {
    let now = 0;
    const sleeps: number[] = [];
    const http = new SaasHttp('jira', {
      attempts: 10,
      budgetMs: 3000,
      baseDelayMs: 1000,
      random: () => 1,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    hits = 0;
    const err = await http
      .json({ method: 'GET', url, headers: {}, idempotent: true, what: 'search' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SaasRequestError);
    expect((err as Error).message).toContain('retry budget of 3000 ms spent');
    // 1 s of backoff; the next wait (2 s) would leave no time for the attempt after it.
    expect(sleeps).toEqual([1000]);
    expect(hits).toBe(2);
    expect(new SaasHttp('jira').budgetMs).toBeLessThan(FUNCTION_TIMEOUT_SECONDS.remediate * 1000);
  });
});
