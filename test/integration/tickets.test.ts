import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitHubTicketTracker } from '../../lambdas/adapters/github-ticket-tracker.ts';
import { JiraTicketTracker } from '../../lambdas/adapters/jira-ticket-tracker.ts';
import { SaasRequestError } from '../../lambdas/adapters/saas-http.ts';
import { ConfigError } from '../../lambdas/domain/errors.ts';
import { ticketBody, ticketLabel, ticketTitle } from '../../lambdas/domain/messages.ts';
import type { Finding } from '../../lambdas/domain/types.ts';
import { type FakeSaas, startFakeSaas } from '../support/fake-saas.ts';

const hex = (c: string) => `sha256:${c.repeat(64)}`;

function finding(over: Partial<Finding> = {}): Finding {
  const f: Finding = {
    id: '',
    kind: 'manifest-data-missing',
    repository: 'team-a/payments-api',
    digest: hex('d'),
    tag: '1.4.2',
    firstSeen: '2026-11-25T10:00:00.000Z',
    lastSeen: '2026-11-25T10:00:00.000Z',
    evidence: ['HeadObject 404 blobs/sha256/dd/.../data'],
    verified: true,
    action: 'clear-cache',
    ...over,
  };
  f.id = `${f.kind}|${f.repository}|${f.digest}`;
  return f;
}

const input = (f: Finding) => ({
  finding: f,
  title: ticketTitle(f),
  body: ticketBody({ finding: f, repushCommand: `docker push h/${f.repository}:${f.tag}` }),
});

let saas: FakeSaas;
let sleeps: number[];
const http = () => ({ sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 });

beforeAll(async () => {
  saas = await startFakeSaas({
    jira: { email: 'bot@example.com', apiToken: 'tok', projects: ['OPS'] },
    github: { token: 'ghp_test' },
  });
});
afterAll(async () => {
  await saas.stop();
});
beforeEach(() => {
  saas.requests.length = 0;
  saas.jiraIssues.length = 0;
  saas.githubIssues.length = 0;
  sleeps = [];
});

describe('Adapter: JiraTicketTracker (Jira Cloud REST v3)', () => {
  const jira = (over: Partial<ConstructorParameters<typeof JiraTicketTracker>[0]> = {}) =>
    new JiraTicketTracker({
      baseUrl: saas.url,
      email: 'bot@example.com',
      apiToken: 'tok',
      projectKey: 'OPS',
      extraLabels: ['pushguard'],
      http: http(),
      ...over,
    });

  it('searches by label, then creates an issue with an ADF description and Basic auth', async () => {
    // Act
    const ref = await jira().ensureTicket(input(finding()));
    // Assess
    expect(ref).toEqual({ id: 'OPS-1', url: `${saas.url}/browse/OPS-1`, created: true });
    expect(saas.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /rest/api/3/search/jql 200',
      'POST /rest/api/3/issue 201',
    ]);
    const [search, create] = saas.requests;
    const basic = `Basic ${Buffer.from('bot@example.com:tok').toString('base64')}`;
    for (const r of [search, create]) {
      expect(r?.headers.authorization).toBe(basic);
      expect(r?.headers.accept).toBe('application/json');
      expect(r?.headers['content-type']).toBe('application/json');
    }
    const label = ticketLabel(finding());
    expect((search!.body as { jql: string }).jql).toBe(
      `project = OPS AND labels = "${label}" AND statusCategory != Done ORDER BY created ASC`
    );
    const issue = saas.jiraIssues[0];
    expect(issue?.labels).toEqual([label, 'pushguard']);
    expect(issue?.summary).toBe('[PushGuard] Manifest data missing: team-a/payments-api:1.4.2');
    expect(issue?.issuetype).toBe('Bug');
    expect(issue?.description).toMatchObject({ type: 'doc', version: 1 });
  });

  it('comments on the open issue for a second finding, never duplicates', async () => {
    const tracker = jira();
    await tracker.ensureTicket(input(finding()));
    const again = await tracker.ensureTicket(
      input(finding({ lastSeen: '2026-11-25T11:00:00.000Z' }))
    );
    expect(again).toEqual({ id: 'OPS-1', url: `${saas.url}/browse/OPS-1`, created: false });
    expect(saas.jiraIssues).toHaveLength(1);
    expect(saas.jiraIssues[0]?.comments).toHaveLength(1);
    expect(JSON.stringify(saas.jiraIssues[0]?.comments[0])).toContain('2026-11-25T11:00:00.000Z');
    // A second tracker instance (another Lambda) finds it by label too.
    expect((await jira().ensureTicket(input(finding()))).created).toBe(false);
    expect(saas.jiraIssues).toHaveLength(1);
  });

  it('skips instead of commenting when told to', async () => {
    await jira().ensureTicket(input(finding()));
    const ref = await jira({ onDuplicate: 'skip' }).ensureTicket(input(finding()));
    expect(ref.created).toBe(false);
    expect(saas.jiraIssues[0]?.comments).toHaveLength(0);
  });

  it('opens a new issue once the previous one is Done, and one per (kind, repository, digest)', async () => {
    const tracker = jira();
    await tracker.ensureTicket(input(finding()));
    saas.closeJira('OPS-1');
    expect((await tracker.ensureTicket(input(finding()))).id).toBe('OPS-2');
    expect((await tracker.ensureTicket(input(finding({ digest: hex('e') })))).id).toBe('OPS-3');
    expect((await tracker.ensureTicket(input(finding({ kind: 'layer-data-missing' })))).id).toBe(
      'OPS-4'
    );
    expect(saas.jiraIssues).toHaveLength(4);
  });

  it('serialises concurrent findings for the same ticket: one issue, the rest comment', async () => {
    const tracker = jira();
    const refs = await Promise.all(
      Array.from({ length: 5 }, () => tracker.ensureTicket(input(finding())))
    );
    expect(saas.jiraIssues).toHaveLength(1);
    expect(refs.filter((r) => r.created)).toHaveLength(1);
    expect(saas.jiraIssues[0]?.comments).toHaveLength(4);
  });

  it('passes the ids it created as reconcileIssues (read-after-write search)', async () => {
    const tracker = jira();
    await tracker.ensureTicket(input(finding()));
    await tracker.ensureTicket(input(finding()));
    const searches = saas.requests.filter((r) => r.path.endsWith('/search/jql'));
    expect((searches[1]!.body as { reconcileIssues?: number[] }).reconcileIssues).toEqual([10000]);
  });

  it('waits as Retry-After says on 429, then succeeds', async () => {
    saas.failNext({
      status: 429,
      headers: { 'retry-after': '2' },
      match: (r) => r.path === '/rest/api/3/issue',
    });
    const ref = await jira().ensureTicket(input(finding()));
    expect(ref.created).toBe(true);
    expect(sleeps).toEqual([2000]);
    expect(saas.jiraIssues).toHaveLength(1);
  });

  it('searches again before retrying a create whose response was lost (502): no duplicate', async () => {
    // Prepare: Jira applies the create, the proxy answers 502.
    saas.failNext({
      status: 502,
      afterApply: true,
      match: (r) => r.path === '/rest/api/3/issue',
    });
    // Act
    const ref = await jira().ensureTicket(input(finding()));
    // Assess
    expect(saas.jiraIssues).toHaveLength(1);
    expect(ref.id).toBe('OPS-1');
    expect(saas.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/rest/api/3/search/jql 200',
      '/rest/api/3/issue 502',
      '/rest/api/3/search/jql 200',
      '/rest/api/3/issue/OPS-1/comment 201',
    ]);
  });

  it('retries a search that fails with 503 using exponential backoff', async () => {
    saas.failNext({ status: 503, times: 2, match: (r) => r.path.endsWith('/search/jql') });
    await jira().ensureTicket(input(finding()));
    expect(sleeps).toEqual([250, 500]);
    expect(saas.jiraIssues).toHaveLength(1);
  });

  it('fails at once with a typed error on bad credentials (401), without retrying', async () => {
    const err = await jira({ apiToken: 'wrong' })
      .ensureTicket(input(finding()))
      .catch((e) => e);
    expect(err).toBeInstanceOf(SaasRequestError);
    expect(err.status).toBe(401);
    expect(saas.requests).toHaveLength(1);
  });

  it('refuses an unusable configuration, listing every problem', () => {
    expect(
      () => new JiraTicketTracker({ baseUrl: 'nope', email: '', apiToken: '', projectKey: 'ops' })
    ).toThrow(ConfigError);
  });

  it('the fake Jira rejects what real Jira rejects (no project key, plain-string description)', async () => {
    const headers = {
      Authorization: `Basic ${Buffer.from('bot@example.com:tok').toString('base64')}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
    };
    const post = (fields: unknown) =>
      fetch(`${saas.url}/rest/api/3/issue`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ fields }),
      });
    const noProject = await post({ issuetype: { name: 'Bug' }, summary: 's' });
    expect(noProject.status).toBe(400);
    expect(
      ((await noProject.json()) as { errors: Record<string, string> }).errors.project
    ).toBeDefined();
    const plain = await post({
      project: { key: 'OPS' },
      issuetype: { name: 'Bug' },
      summary: 's',
      description: 'plain text',
    });
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as { errors: Record<string, string> }).errors.description).toMatch(
      /Atlassian Document/
    );
    expect(saas.jiraIssues).toHaveLength(0);
  });
});

describe('Adapter: GitHubTicketTracker (GitHub Issues REST)', () => {
  const gh = (over: Partial<ConstructorParameters<typeof GitHubTicketTracker>[0]> = {}) =>
    new GitHubTicketTracker({
      baseUrl: saas.url,
      token: 'ghp_test',
      owner: 'acme',
      repo: 'registry-ops',
      http: http(),
      ...over,
    });

  it('lists open issues by label, then creates one with the documented headers', async () => {
    const ref = await gh().ensureTicket(input(finding()));
    expect(ref).toEqual({
      id: '1',
      url: `${saas.url}/acme/registry-ops/issues/1`,
      created: true,
    });
    const [list, create] = saas.requests;
    expect(`${list?.method} ${list?.path}`).toBe('GET /repos/acme/registry-ops/issues');
    expect(list?.query).toMatchObject({ state: 'open', labels: ticketLabel(finding()) });
    expect(`${create?.method} ${create?.path} ${create?.status}`).toBe(
      'POST /repos/acme/registry-ops/issues 201'
    );
    for (const r of [list, create]) {
      expect(r?.headers.authorization).toBe('Bearer ghp_test');
      expect(r?.headers.accept).toBe('application/vnd.github+json');
      expect(r?.headers['x-github-api-version']).toBe('2022-11-28');
      expect(r?.headers['user-agent']).toBe('pushguard');
    }
    expect(create?.body).toMatchObject({
      title: ticketTitle(finding()),
      labels: [ticketLabel(finding())],
    });
    expect((create!.body as { body: string }).body).toContain('MANIFEST_UNKNOWN');
  });

  it('comments on the open issue for a second finding, never duplicates', async () => {
    await gh().ensureTicket(input(finding()));
    const again = await gh().ensureTicket(input(finding()));
    expect(again).toMatchObject({ id: '1', created: false });
    expect(saas.githubIssues).toHaveLength(1);
    expect(saas.githubIssues[0]?.comments).toHaveLength(1);
    const skip = await gh({ onDuplicate: 'skip' }).ensureTicket(input(finding()));
    expect(skip.created).toBe(false);
    expect(saas.githubIssues[0]?.comments).toHaveLength(1);
  });

  it('ignores pull requests carrying the label and closed issues', async () => {
    const label = ticketLabel(finding());
    saas.githubIssues.push(
      {
        number: 1,
        owner: 'acme',
        repo: 'registry-ops',
        title: 'PR',
        body: '',
        labels: [label],
        state: 'open',
        pullRequest: true,
        comments: [],
      },
      {
        number: 2,
        owner: 'acme',
        repo: 'registry-ops',
        title: 'old',
        body: '',
        labels: [label],
        state: 'closed',
        pullRequest: false,
        comments: [],
      }
    );
    const ref = await gh().ensureTicket(input(finding()));
    expect(ref).toMatchObject({ id: '3', created: true });
    expect(saas.githubIssues[0]?.comments).toHaveLength(0);
  });

  it('waits for the rate-limit reset on 403 x-ratelimit-remaining: 0', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3;
    saas.failNext({
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: '{"message":"API rate limit exceeded"}',
    });
    const ref = await gh().ensureTicket(input(finding()));
    expect(ref.created).toBe(true);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(0);
    expect(sleeps[0]).toBeLessThanOrEqual(3000);
  });

  it('gives up when Retry-After is longer than it is willing to wait', async () => {
    saas.failNext({ status: 429, headers: { 'retry-after': '3600' } });
    const err = await gh()
      .ensureTicket(input(finding()))
      .catch((e) => e);
    expect(err).toBeInstanceOf(SaasRequestError);
    expect(err.status).toBe(429);
    expect(sleeps).toEqual([]);
  });

  it('the fake GitHub rejects calls without the API-version header or a User-Agent', async () => {
    const base = { Authorization: 'Bearer ghp_test', Accept: 'application/vnd.github+json' };
    const noVersion = await fetch(`${saas.url}/repos/acme/registry-ops/issues`, {
      headers: { ...base, 'User-Agent': 'x' },
    });
    expect(noVersion.status).toBe(400);
    const bad = await fetch(`${saas.url}/repos/acme/registry-ops/issues`, {
      headers: { ...base, 'User-Agent': 'x', 'X-GitHub-Api-Version': '2022-11-28' },
    });
    expect(bad.status).toBe(200);
    const wrongToken = await gh({ token: 'nope' })
      .ensureTicket(input(finding()))
      .catch((e) => e);
    expect(wrongToken.status).toBe(401);
  });
});
