/**
 * A local stand-in for the SaaS APIs PushGuard calls, on 127.0.0.1: Jira Cloud REST v3, GitHub
 * REST (issues) and Slack incoming webhooks. It records every request, checks method, path,
 * auth headers and body shape as each API documents them, answers in the real APIs' formats and
 * keeps issues in memory, so dedupe is observable. `failNext` injects 429/5xx answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  service: 'jira' | 'github' | 'slack' | 'unknown';
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  status: number;
}

export interface JiraIssue {
  id: string;
  key: string;
  project: string;
  issuetype: string;
  summary: string;
  labels: string[];
  description: unknown;
  statusCategory: 'new' | 'indeterminate' | 'done';
  comments: unknown[];
}

export interface GitHubIssue {
  number: number;
  owner: string;
  repo: string;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  pullRequest: boolean;
  comments: string[];
}

export interface SlackDelivery {
  hook: string;
  body: Record<string, unknown>;
}

interface Failure {
  times: number;
  /** Apply the request first, then answer with the failure (a lost response). */
  afterApply: boolean;
  status: number;
  headers: Record<string, string>;
  body: string;
  match: (r: RecordedRequest) => boolean;
}

export interface FakeSaasOptions {
  jira?: { email: string; apiToken: string; projects: string[] };
  github?: { token: string };
  /** Slack hook names (`team-a` → `/services/T0PUSHGRD/Bteam-a/secret`). */
  slackHooks?: string[];
}

export interface FakeSaas {
  url: string;
  requests: RecordedRequest[];
  jiraIssues: JiraIssue[];
  githubIssues: GitHubIssue[];
  slack: SlackDelivery[];
  slackHookUrl(name: string): string;
  /** The next `times` requests (matching `match`) get this answer instead. */
  failNext(f: {
    status: number;
    times?: number;
    headers?: Record<string, string>;
    body?: string;
    match?: (r: RecordedRequest) => boolean;
    /** Apply the request, then lose the response behind this answer. */
    afterApply?: boolean;
  }): void;
  /** Moves a Jira issue to the Done category. */
  closeJira(key: string): void;
  closeGitHub(number: number): void;
  stop(): Promise<void>;
}

const JIRA_SEARCH = '/rest/api/3/search/jql';
const SLACK_BLOCK_TYPES = new Set([
  'section',
  'header',
  'context',
  'divider',
  'actions',
  'image',
  'rich_text',
]);

type Json = Record<string, unknown>;
type Answer = { status: number; body: unknown; headers?: Record<string, string> };

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function jiraError(
  status: number,
  messages: string[],
  errors: Record<string, string> = {}
): Answer {
  return { status, body: { errorMessages: messages, errors } };
}

function ghError(status: number, message: string): Answer {
  return {
    status,
    body: { message, documentation_url: 'https://docs.github.com/rest', status: String(status) },
  };
}

function isAdfDoc(v: unknown): boolean {
  if (!isObj(v) || v.type !== 'doc' || v.version !== 1 || !Array.isArray(v.content)) return false;
  const ok = (n: unknown): boolean => {
    if (!isObj(n) || typeof n.type !== 'string') return false;
    if (n.type === 'text' && (typeof n.text !== 'string' || n.text.length === 0)) return false;
    return n.content === undefined || (Array.isArray(n.content) && n.content.every(ok));
  };
  return v.content.every(ok);
}

function textObject(v: unknown, max: number, types = ['plain_text', 'mrkdwn']): boolean {
  return (
    isObj(v) &&
    typeof v.type === 'string' &&
    types.includes(v.type) &&
    typeof v.text === 'string' &&
    v.text.length > 0 &&
    v.text.length <= max
  );
}

/** Block Kit checks for what incoming webhooks accept (limits from api.slack.com/reference/block-kit). */
function slackBlocksProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks) || blocks.length > 50) return 'blocks must be an array of ≤ 50';
  const ids = new Set<string>();
  for (const [i, b] of blocks.entries()) {
    if (!isObj(b) || typeof b.type !== 'string' || !SLACK_BLOCK_TYPES.has(b.type)) {
      return `blocks[${i}] has no known type`;
    }
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || ids.has(b.block_id)) return `blocks[${i}] block_id`;
      ids.add(b.block_id);
    }
    if (b.type === 'header' && !textObject(b.text, 150, ['plain_text'])) {
      return `blocks[${i}] header needs plain_text ≤ 150`;
    }
    if (b.type === 'section') {
      if (b.text === undefined && b.fields === undefined)
        return `blocks[${i}] needs text or fields`;
      if (b.text !== undefined && !textObject(b.text, 3000)) return `blocks[${i}].text`;
      if (b.fields !== undefined) {
        const f = b.fields;
        if (!Array.isArray(f) || f.length === 0 || f.length > 10) return `blocks[${i}].fields`;
        if (!f.every((x) => textObject(x, 2000))) return `blocks[${i}].fields item`;
      }
    }
    if (b.type === 'context') {
      const e = b.elements;
      if (!Array.isArray(e) || e.length === 0 || e.length > 10) return `blocks[${i}].elements`;
      if (!e.every((x) => textObject(x, 3000) || (isObj(x) && x.type === 'image'))) {
        return `blocks[${i}].elements item`;
      }
    }
  }
  return undefined;
}

export async function startFakeSaas(options: FakeSaasOptions = {}): Promise<FakeSaas> {
  const jiraCfg = options.jira ?? {
    email: 'bot@example.com',
    apiToken: 'jira-token',
    projects: ['OPS'],
  };
  const ghToken = options.github?.token ?? 'gh-token';
  const hooks = new Set(options.slackHooks ?? ['default']);
  const requests: RecordedRequest[] = [];
  const jiraIssues: JiraIssue[] = [];
  const githubIssues: GitHubIssue[] = [];
  const slack: SlackDelivery[] = [];
  const failures: Failure[] = [];
  let base = '';

  function jira(r: RecordedRequest): Answer {
    const expected = `Basic ${Buffer.from(`${jiraCfg.email}:${jiraCfg.apiToken}`).toString('base64')}`;
    if (r.headers.authorization !== expected) {
      return jiraError(401, ['Client must be authenticated to access this resource.']);
    }
    if (!(r.headers.accept ?? '').includes('application/json')) {
      return jiraError(406, ['Accept must include application/json']);
    }
    if (r.method === 'POST' && !(r.headers['content-type'] ?? '').startsWith('application/json')) {
      return { status: 415, body: '' };
    }
    if (r.method === 'POST' && r.path === JIRA_SEARCH) return jiraSearch(r.body);
    if (r.method === 'POST' && r.path === '/rest/api/3/issue') return jiraCreate(r.body);
    const m = /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/.exec(r.path);
    if (r.method === 'POST' && m) return jiraComment(decodeURIComponent(m[1] ?? ''), r.body);
    return jiraError(404, ['Not found']);
  }

  function jiraSearch(body: unknown): Answer {
    if (!isObj(body) || typeof body.jql !== 'string') return jiraError(400, ['jql is required']);
    if (body.reconcileIssues !== undefined) {
      const ri = body.reconcileIssues;
      if (!Array.isArray(ri) || !ri.every((x) => Number.isInteger(x))) {
        return jiraError(400, ['reconcileIssues must be an array of issue ids']);
      }
    }
    const project = /project\s*=\s*"?([A-Z][A-Z0-9_]*)"?/.exec(body.jql)?.[1];
    const label = /labels\s*=\s*"([^"]+)"/.exec(body.jql)?.[1];
    const notDone = /statusCategory\s*!=\s*Done/i.test(body.jql);
    if (!project || !label)
      return jiraError(400, ['Error in the JQL Query: the fake needs project and labels']);
    if (!jiraCfg.projects.includes(project)) {
      return jiraError(400, [`The value '${project}' does not exist for the field 'project'.`]);
    }
    const max = typeof body.maxResults === 'number' ? body.maxResults : 50;
    const found = jiraIssues
      .filter((i) => i.project === project && i.labels.includes(label))
      .filter((i) => !notDone || i.statusCategory !== 'done')
      .slice(0, max);
    return {
      status: 200,
      body: {
        issues: found.map((i) => ({
          id: i.id,
          key: i.key,
          self: `${base}/rest/api/3/issue/${i.id}`,
          fields: {
            summary: i.summary,
            labels: i.labels,
            status: { statusCategory: { key: i.statusCategory } },
          },
        })),
        isLast: true,
      },
    };
  }

  function jiraCreate(body: unknown): Answer {
    if (!isObj(body) || !isObj(body.fields)) return jiraError(400, ['fields is required']);
    const f = body.fields;
    const errors: Record<string, string> = {};
    const project = isObj(f.project) ? f.project.key : undefined;
    if (typeof project !== 'string') errors.project = 'Specify a valid project ID or key';
    else if (!jiraCfg.projects.includes(project)) errors.project = 'valid project is required';
    if (
      !isObj(f.issuetype) ||
      (typeof f.issuetype.name !== 'string' && typeof f.issuetype.id !== 'string')
    ) {
      errors.issuetype = 'Specify an issue type';
    }
    if (typeof f.summary !== 'string' || !f.summary.trim())
      errors.summary = 'You must specify a summary of the issue.';
    else if (f.summary.length > 255 || /[\r\n]/.test(f.summary))
      errors.summary = 'Summary must be less than 255 characters, on one line.';
    if (
      f.labels !== undefined &&
      (!Array.isArray(f.labels) || !f.labels.every((l) => typeof l === 'string' && !/\s/.test(l)))
    ) {
      errors.labels = 'Labels must be strings without spaces.';
    }
    if (f.description !== undefined && !isAdfDoc(f.description)) {
      errors.description =
        'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    }
    if (Object.keys(errors).length > 0) return jiraError(400, [], errors);
    const id = String(10000 + jiraIssues.length);
    const key = `${project}-${jiraIssues.filter((i) => i.project === project).length + 1}`;
    jiraIssues.push({
      id,
      key,
      project: project as string,
      issuetype: String((f.issuetype as Json).name ?? (f.issuetype as Json).id),
      summary: f.summary as string,
      labels: (f.labels as string[] | undefined) ?? [],
      description: f.description,
      statusCategory: 'new',
      comments: [],
    });
    return { status: 201, body: { id, key, self: `${base}/rest/api/3/issue/${id}` } };
  }

  function jiraComment(key: string, body: unknown): Answer {
    const issue = jiraIssues.find((i) => i.key === key || i.id === key);
    if (!issue)
      return jiraError(404, ['Issue does not exist or you do not have permission to see it.']);
    if (!isObj(body) || !isAdfDoc(body.body)) {
      return jiraError(400, [], { comment: 'Comment body must be an Atlassian Document' });
    }
    issue.comments.push(body.body);
    const id = String(issue.comments.length);
    return {
      status: 201,
      body: { id, self: `${base}/rest/api/3/issue/${issue.id}/comment/${id}`, body: body.body },
    };
  }

  function github(r: RecordedRequest): Answer {
    if (!r.headers['user-agent']) {
      return ghError(
        403,
        'Request forbidden by administrative rules. Please make sure your request has a User-Agent header'
      );
    }
    const auth = r.headers.authorization ?? '';
    if (auth !== `Bearer ${ghToken}` && auth !== `token ${ghToken}`)
      return ghError(401, 'Bad credentials');
    if (r.headers['x-github-api-version'] !== '2022-11-28') {
      return ghError(
        400,
        `Unsupported or missing API version: ${r.headers['x-github-api-version'] ?? '(none)'}`
      );
    }
    if (r.headers.accept !== 'application/vnd.github+json') {
      return ghError(415, 'Accept must be application/vnd.github+json');
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)\/issues(?:\/(\d+)\/comments)?$/.exec(r.path);
    if (!m) return ghError(404, 'Not Found');
    const [, owner, repo, num] = m as unknown as [string, string, string, string | undefined];
    if (r.method === 'GET' && num === undefined) {
      const want = (r.query.labels ?? '').split(',').filter(Boolean);
      const state = r.query.state ?? 'open';
      const list = githubIssues
        .filter((i) => i.owner === owner && i.repo === repo)
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => want.every((l) => i.labels.includes(l)))
        .slice(0, Number(r.query.per_page ?? 30));
      return { status: 200, body: list.map((i) => ghIssueJson(i)) };
    }
    if (r.method === 'POST' && num === undefined) {
      const b = r.body;
      if (!isObj(b) || typeof b.title !== 'string' || !b.title) {
        return {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }],
          },
        };
      }
      if (
        b.labels !== undefined &&
        (!Array.isArray(b.labels) || !b.labels.every((l) => typeof l === 'string'))
      ) {
        return {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ resource: 'Issue', field: 'labels', code: 'invalid' }],
          },
        };
      }
      const issue: GitHubIssue = {
        number: githubIssues.length + 1,
        owner,
        repo,
        title: b.title,
        body: typeof b.body === 'string' ? b.body : '',
        labels: (b.labels as string[] | undefined) ?? [],
        state: 'open',
        pullRequest: false,
        comments: [],
      };
      githubIssues.push(issue);
      return { status: 201, body: ghIssueJson(issue) };
    }
    if (r.method === 'POST' && num !== undefined) {
      const issue = githubIssues.find(
        (i) => i.owner === owner && i.repo === repo && i.number === Number(num)
      );
      if (!issue) return ghError(404, 'Not Found');
      const b = r.body;
      if (!isObj(b) || typeof b.body !== 'string' || !b.body) {
        return {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ field: 'body', code: 'missing_field' }],
          },
        };
      }
      issue.comments.push(b.body);
      const id = issue.comments.length;
      return {
        status: 201,
        body: { id, body: b.body, html_url: `${ghHtml(issue)}#issuecomment-${id}` },
      };
    }
    return ghError(404, 'Not Found');
  }

  function ghHtml(i: GitHubIssue): string {
    return `${base}/${i.owner}/${i.repo}/${i.pullRequest ? 'pull' : 'issues'}/${i.number}`;
  }

  function ghIssueJson(i: GitHubIssue): Json {
    return {
      id: 1_000_000 + i.number,
      number: i.number,
      title: i.title,
      body: i.body,
      state: i.state,
      html_url: ghHtml(i),
      labels: i.labels.map((name) => ({ name })),
      ...(i.pullRequest ? { pull_request: { url: ghHtml(i) } } : {}),
    };
  }

  function slackHook(r: RecordedRequest): Answer {
    const m = /^\/services\/T0PUSHGRD\/B([^/]+)\/secret$/.exec(r.path);
    const text = (status: number, body: string): Answer => ({
      status,
      body,
      headers: { 'content-type': 'text/html' },
    });
    if (r.method !== 'POST' || !m || !hooks.has(m[1] ?? '')) return text(404, 'no_service');
    if (!(r.headers['content-type'] ?? '').startsWith('application/json'))
      return text(400, 'invalid_payload');
    const b = r.body;
    if (!isObj(b)) return text(400, 'invalid_payload');
    if (b.text === undefined && b.blocks === undefined) return text(400, 'no_text');
    if (b.text !== undefined && (typeof b.text !== 'string' || b.text.length > 40_000))
      return text(400, 'invalid_payload');
    if (b.blocks !== undefined && slackBlocksProblem(b.blocks)) return text(400, 'invalid_blocks');
    slack.push({ hook: m[1] ?? '', body: b });
    return text(200, 'ok');
  }

  function route(r: RecordedRequest): Answer {
    if (r.path.startsWith('/rest/api/3/')) return jira(r);
    if (r.path.startsWith('/repos/')) return github(r);
    if (r.path.startsWith('/services/')) return slackHook(r);
    return { status: 404, body: 'not found' };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      headers[k] = Array.isArray(v) ? v.join(', ') : (v ?? '');
    let body: unknown = raw;
    if (raw && (headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const service = url.pathname.startsWith('/rest/api/3/')
      ? 'jira'
      : url.pathname.startsWith('/repos/')
        ? 'github'
        : url.pathname.startsWith('/services/')
          ? 'slack'
          : 'unknown';
    const rec: RecordedRequest = {
      service,
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      status: 0,
    };
    requests.push(rec);
    const fi = failures.findIndex((f) => f.match(rec));
    let answer: Answer;
    if (fi >= 0) {
      const f = failures[fi] as Failure;
      if (--f.times <= 0) failures.splice(fi, 1);
      if (f.afterApply) route(rec);
      answer = { status: f.status, body: f.body, headers: f.headers };
    } else if (
      typeof body === 'string' &&
      raw &&
      (headers['content-type'] ?? '').includes('json')
    ) {
      answer = { status: 400, body: { message: 'Problems parsing JSON' } };
    } else {
      answer = route(rec);
    }
    rec.status = answer.status;
    const isText = typeof answer.body === 'string';
    res.writeHead(answer.status, {
      'content-type': isText ? 'text/plain' : 'application/json; charset=utf-8',
      ...answer.headers,
    });
    res.end(isText ? answer.body : JSON.stringify(answer.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  return {
    url: base,
    requests,
    jiraIssues,
    githubIssues,
    slack,
    slackHookUrl: (name) => `${base}/services/T0PUSHGRD/B${name}/secret`,
    failNext: (f) => {
      failures.push({
        times: f.times ?? 1,
        status: f.status,
        headers: f.headers ?? {},
        body: f.body ?? '',
        afterApply: f.afterApply ?? false,
        match: f.match ?? (() => true),
      });
    },
    closeJira: (key) => {
      const issue = jiraIssues.find((i) => i.key === key);
      if (issue) issue.statusCategory = 'done';
    },
    closeGitHub: (n) => {
      const issue = githubIssues.find((i) => i.number === n);
      if (issue) issue.state = 'closed';
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
