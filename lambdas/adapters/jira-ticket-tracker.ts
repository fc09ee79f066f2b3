/**
 * TicketTracker on Jira Cloud (REST v3). One open issue per (kind, repository, digest), the
 * loop shared with GitHub in one-open-ticket.ts:
 * 1. find an open issue by its deterministic label: `POST /rest/api/3/search/jql` with
 *    `project = KEY AND labels = "pushguard-…" AND statusCategory != Done`;
 * 2. found: comment on it (`POST /rest/api/3/issue/{key}/comment`, ADF body), or skip;
 * 3. not found: create it (`POST /rest/api/3/issue`, ADF description) and remember its id, which
 *    later searches pass as `reconcileIssues` so Jira's eventually consistent search sees it.
 */
import { ConfigError } from '../domain/errors.ts';
import { markdownToAdf, ticketComment } from '../domain/messages.ts';
import type { TicketRef, TicketTracker } from '../ports.ts';
import { OneOpenTicket, type TicketRequest } from './one-open-ticket.ts';
import { type HttpOptions, SaasHttp } from './saas-http.ts';

export interface JiraTicketTrackerOptions {
  /** `https://your-domain.atlassian.net` */
  baseUrl: string;
  email: string;
  apiToken: string;
  projectKey: string;
  /** @default 'Bug' */
  issueType?: string;
  /** Added to the dedupe label on created issues, e.g. `pushguard`. @default [] */
  extraLabels?: string[];
  /** What a repeated finding does to the open issue. @default 'comment' */
  onDuplicate?: 'comment' | 'skip';
  http?: HttpOptions;
}

interface JiraIssue {
  id: string;
  key: string;
}

interface SearchResponse {
  issues?: JiraIssue[];
}

const LABEL = /^[^\s]{1,255}$/;
const MAX_REMEMBERED = 1000;

export class JiraTicketTracker implements TicketTracker {
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly http: SaasHttp;
  private readonly tickets: OneOpenTicket<JiraIssue>;
  /** label → ids of issues this instance created (reconcileIssues of later searches). */
  private readonly created = new Map<string, number[]>();

  constructor(private readonly options: JiraTicketTrackerOptions) {
    const problems: string[] = [];
    let base: URL | undefined;
    try {
      base = new URL(options.baseUrl);
    } catch {
      problems.push(`jira baseUrl is not a URL: ${options.baseUrl}`);
    }
    if (base && base.protocol !== 'https:' && base.protocol !== 'http:') {
      problems.push('jira baseUrl must be http(s)');
    }
    if (!/^[A-Z][A-Z0-9_]{0,254}$/.test(options.projectKey)) {
      problems.push(`jira projectKey must look like OPS or PLAT_2, got "${options.projectKey}"`);
    }
    if (!options.email || !options.apiToken) problems.push('jira email and apiToken are required');
    for (const l of options.extraLabels ?? []) {
      if (!LABEL.test(l)) problems.push(`jira label "${l}" must be 1-255 characters, no spaces`);
    }
    if (problems.length > 0) throw new ConfigError(problems);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const basic = Buffer.from(`${options.email}:${options.apiToken}`).toString('base64');
    this.headers = {
      Authorization: `Basic ${basic}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
    };
    this.http = new SaasHttp('jira', options.http);
    this.tickets = new OneOpenTicket<JiraIssue>(
      {
        findOpen: (label) => this.findOpen(label),
        comment: (issue, finding) => this.comment(issue.key, ticketComment(finding)),
        create: (label, request) => this.create(label, request.title, request.body),
        ref: (issue, created) => ({ id: issue.key, url: this.browseUrl(issue.key), created }),
      },
      this.http,
      options.onDuplicate
    );
  }

  ensureTicket(input: TicketRequest): Promise<TicketRef> {
    return this.tickets.ensure(input);
  }

  private async findOpen(label: string): Promise<JiraIssue | undefined> {
    const jql = `project = ${this.options.projectKey} AND labels = "${label}" AND statusCategory != Done ORDER BY created ASC`;
    const reconcile = this.created.get(label);
    const res = await this.http.json<SearchResponse>({
      method: 'POST',
      url: `${this.baseUrl}/rest/api/3/search/jql`,
      headers: this.headers,
      body: {
        jql,
        fields: ['summary', 'status', 'labels'],
        maxResults: 1,
        ...(reconcile ? { reconcileIssues: reconcile } : {}),
      },
      idempotent: true,
      what: 'search issues',
    });
    return res.issues?.[0];
  }

  /** Remembers the new issue's id: later searches pass it so that they see it. */
  private async create(label: string, title: string, body: string): Promise<JiraIssue> {
    const issue = await this.http.json<JiraIssue>({
      method: 'POST',
      url: `${this.baseUrl}/rest/api/3/issue`,
      headers: this.headers,
      body: {
        fields: {
          project: { key: this.options.projectKey },
          issuetype: { name: this.options.issueType ?? 'Bug' },
          summary: title.replace(/[\r\n]+/g, ' ').slice(0, 255),
          labels: [label, ...(this.options.extraLabels ?? [])],
          description: markdownToAdf(body),
        },
      },
      idempotent: false,
      what: 'create issue',
    });
    this.remember(label, Number(issue.id));
    return issue;
  }

  private async comment(key: string, text: string): Promise<void> {
    await this.http.json({
      method: 'POST',
      url: `${this.baseUrl}/rest/api/3/issue/${encodeURIComponent(key)}/comment`,
      headers: this.headers,
      body: { body: markdownToAdf(text) },
      idempotent: false,
      what: `comment on ${key}`,
    });
  }

  private remember(label: string, id: number): void {
    if (!Number.isInteger(id)) return;
    if (this.created.size >= MAX_REMEMBERED && !this.created.has(label)) {
      const oldest = this.created.keys().next().value;
      if (oldest !== undefined) this.created.delete(oldest);
    }
    this.created.set(label, [...(this.created.get(label) ?? []), id].slice(-10));
  }

  private browseUrl(key: string): string {
    return `${this.baseUrl}/browse/${key}`;
  }
}
