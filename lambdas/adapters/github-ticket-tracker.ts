/**
 * TicketTracker on GitHub Issues (REST, API version 2022-11-28). One open issue per
 * (kind, repository, digest), found by its deterministic label (the loop shared with Jira in
 * one-open-ticket.ts):
 * 1. `GET /repos/{owner}/{repo}/issues?state=open&labels=<label>` (pull requests filtered out);
 * 2. found: comment (`POST /repos/{owner}/{repo}/issues/{n}/comments`) or skip;
 * 3. not found: `POST /repos/{owner}/{repo}/issues` with title, body and labels (GitHub creates a
 *    missing label when the token may push to the repository).
 */
import { ConfigError } from '../domain/errors.ts';
import { ticketComment } from '../domain/messages.ts';
import type { TicketRef, TicketTracker } from '../ports.ts';
import { OneOpenTicket, type TicketRequest } from './one-open-ticket.ts';
import { type HttpOptions, SaasHttp } from './saas-http.ts';

export interface GitHubTicketTrackerOptions {
  /** `https://api.github.com`, or `https://ghe.example.com/api/v3`. @default 'https://api.github.com' */
  baseUrl?: string;
  token: string;
  owner: string;
  repo: string;
  /** Added to the dedupe label on created issues. @default [] */
  extraLabels?: string[];
  /** What a repeated finding does to the open issue. @default 'comment' */
  onDuplicate?: 'comment' | 'skip';
  /** GitHub refuses requests without one. @default 'pushguard' */
  userAgent?: string;
  http?: HttpOptions;
}

interface GhIssue {
  number: number;
  html_url: string;
  pull_request?: unknown;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export class GitHubTicketTracker implements TicketTracker {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly http: SaasHttp;
  private readonly tickets: OneOpenTicket<GhIssue>;

  constructor(private readonly options: GitHubTicketTrackerOptions) {
    const problems: string[] = [];
    const baseUrl = (options.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
    try {
      new URL(baseUrl);
    } catch {
      problems.push(`github baseUrl is not a URL: ${baseUrl}`);
    }
    if (!NAME.test(options.owner)) problems.push(`github owner is invalid: "${options.owner}"`);
    if (!NAME.test(options.repo)) problems.push(`github repo is invalid: "${options.repo}"`);
    if (!options.token) problems.push('github token is required');
    for (const l of options.extraLabels ?? []) {
      if (!l || l.length > 50 || l.includes(',')) problems.push(`github label "${l}" is invalid`);
    }
    if (problems.length > 0) throw new ConfigError(problems);
    this.base = `${baseUrl}/repos/${options.owner}/${options.repo}`;
    this.headers = {
      Authorization: `Bearer ${options.token}`,
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
      'User-Agent': options.userAgent ?? 'pushguard',
      'Content-Type': 'application/json',
    };
    this.http = new SaasHttp('github', options.http);
    this.tickets = new OneOpenTicket<GhIssue>(
      {
        findOpen: (label) => this.findOpen(label),
        comment: (issue, finding) => this.comment(issue, ticketComment(finding)),
        create: (label, request) => this.create(label, request),
        ref: (issue, created) => ({ id: String(issue.number), url: issue.html_url, created }),
      },
      this.http,
      options.onDuplicate
    );
  }

  ensureTicket(input: TicketRequest): Promise<TicketRef> {
    return this.tickets.ensure(input);
  }

  private async comment(issue: GhIssue, text: string): Promise<void> {
    await this.http.json({
      method: 'POST',
      url: `${this.base}/issues/${issue.number}/comments`,
      headers: this.headers,
      body: { body: text },
      idempotent: false,
      what: `comment on #${issue.number}`,
    });
  }

  private create(label: string, request: TicketRequest): Promise<GhIssue> {
    return this.http.json<GhIssue>({
      method: 'POST',
      url: `${this.base}/issues`,
      headers: this.headers,
      body: {
        title: request.title.slice(0, 256),
        body: request.body.slice(0, 65_000),
        labels: [label, ...(this.options.extraLabels ?? [])],
      },
      idempotent: false,
      what: 'create issue',
    });
  }

  private async findOpen(label: string): Promise<GhIssue | undefined> {
    const query = new URLSearchParams({
      state: 'open',
      labels: label,
      sort: 'created',
      direction: 'asc',
      per_page: '30',
    });
    const issues = await this.http.json<GhIssue[]>({
      method: 'GET',
      url: `${this.base}/issues?${query}`,
      headers: this.headers,
      idempotent: true,
      what: 'list issues',
    });
    return issues.find((i) => i.pull_request === undefined);
  }
}
