import { describe, expect, it } from 'vitest';
import {
  escapeMrkdwn,
  markdownToAdf,
  notificationAttributes,
  notificationJson,
  projectOf,
  slackMessage,
  ticketBody,
  ticketComment,
  ticketLabel,
  ticketTitle,
} from '../../../lambdas/domain/messages.ts';
import type { Finding } from '../../../lambdas/domain/types.ts';
import type { Notification } from '../../../lambdas/ports.ts';

const DIGEST = 'sha256:d072586aa4ec0d482c731fb91a40e149586e7e89cf1cd68ae81f57daf525039a';

function finding(over: Partial<Finding> = {}): Finding {
  return {
    id: `manifest-data-missing|team-a/payments-api|${DIGEST}`,
    kind: 'manifest-data-missing',
    repository: 'team-a/payments-api',
    digest: DIGEST,
    tag: '1.4.2',
    firstSeen: '2026-11-25T10:00:00.000Z',
    lastSeen: '2026-11-25T10:05:00.000Z',
    evidence: [
      'HeadObject 404 docker/registry/v2/blobs/sha256/d0/d072.../data',
      `redis blobs::${DIGEST}`,
    ],
    verified: true,
    action: 'clear-cache',
    ...over,
  };
}

function notification(over: Partial<Notification> = {}): Notification {
  return {
    finding: finding(),
    outcome: `cleared blobs::${DIGEST}`,
    mode: 'enforce',
    repushCommand: 'docker push harbor.example.com/team-a/payments-api:1.4.2',
    severity: 'critical',
    ...over,
  };
}

describe('Ticket wording', () => {
  it('derives one label per (kind, repository, digest)', () => {
    const a = ticketLabel(finding());
    expect(a).toMatch(/^pushguard-[a-f0-9]{16}$/);
    expect(ticketLabel(finding({ lastSeen: 'later', evidence: [] }))).toBe(a);
    expect(ticketLabel(finding({ kind: 'layer-data-missing' }))).not.toBe(a);
    expect(ticketLabel(finding({ repository: 'team-b/payments-api' }))).not.toBe(a);
    expect(ticketLabel(finding({ digest: `sha256:${'0'.repeat(64)}` }))).not.toBe(a);
  });

  it('titles name the kind, repository and tag, within Jira and GitHub limits', () => {
    expect(ticketTitle(finding())).toBe(
      '[PushGuard] Manifest data missing: team-a/payments-api:1.4.2'
    );
    expect(ticketTitle(finding({ tag: undefined }))).toBe(
      '[PushGuard] Manifest data missing: team-a/payments-api@sha256:d072586aa4ec'
    );
    expect(ticketTitle(finding({ repository: 'a/'.repeat(200) })).length).toBeLessThanOrEqual(250);
  });

  it('bodies say what was found, what it breaks, what was done and how to repair', () => {
    const body = ticketBody({
      finding: finding(),
      outcome: 'cleared 1 key',
      repushCommand: 'docker push h/team-a/payments-api:1.4.2',
    });
    expect(body).toContain('`team-a/payments-api`');
    expect(body).toContain(`\`${DIGEST}\``);
    expect(body).toContain('MANIFEST_UNKNOWN');
    expect(body).toContain('**What was done:** cleared 1 key');
    expect(body).toContain('```\ndocker push h/team-a/payments-api:1.4.2\n```');
    expect(ticketBody({ finding: finding({ kind: 'layer-data-missing' }) })).toContain(
      'BLOB_UNKNOWN'
    );
    expect(ticketComment(finding(), 'nothing')).toContain('last seen 2026-11-25T10:05:00.000Z');
  });
});

describe('Function: markdownToAdf()', () => {
  it('turns the ticket body into a valid ADF document (no empty text nodes)', () => {
    const doc = markdownToAdf(
      ticketBody({ finding: finding(), outcome: 'x', repushCommand: 'docker push a/b:c' })
    );
    expect(doc.type).toBe('doc');
    expect(doc.version).toBe(1);
    const types = doc.content.map((n) => n.type);
    expect(types).toContain('bulletList');
    expect(types).toContain('codeBlock');
    const code = doc.content.find((n) => n.type === 'codeBlock');
    expect(code?.content).toEqual([{ type: 'text', text: 'docker push a/b:c' }]);
    const texts = (nodes: typeof doc.content): (typeof doc.content)[number][] =>
      nodes.flatMap((n) => [...(n.type === 'text' ? [n] : []), ...texts(n.content ?? [])]);
    const all = texts(doc.content);
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((n) => !n.text)).toEqual([]);
  });

  it('marks inline code and strong text', () => {
    expect(markdownToAdf('a `b` **c**\nd').content).toEqual([
      {
        type: 'paragraph',
        content: [
          { type: 'text', text: 'a ' },
          { type: 'text', text: 'b', marks: [{ type: 'code' }] },
          { type: 'text', text: ' ' },
          { type: 'text', text: 'c', marks: [{ type: 'strong' }] },
          { type: 'hardBreak' },
          { type: 'text', text: 'd' },
        ],
      },
    ]);
    expect(markdownToAdf('').content).toEqual([{ type: 'paragraph', content: [] }]);
  });
});

describe('Function: slackMessage()', () => {
  it('builds header, fields, found/done sections and the re-push command in a code block', () => {
    const msg = slackMessage(notification());
    const [header, fields, found, done, repush, context] = msg.blocks as {
      type: string;
      text?: { type: string; text: string };
      fields?: { text: string }[];
      elements?: { text: string }[];
    }[];
    expect(header?.type).toBe('header');
    expect(header?.text?.type).toBe('plain_text');
    expect(header?.text?.text.length).toBeLessThanOrEqual(150);
    expect(fields?.fields?.map((f) => f.text.split('\n')[0])).toEqual([
      '*Repository*',
      '*Digest*',
      '*Tag*',
      '*Severity*',
    ]);
    expect(fields?.fields?.[1]?.text).toContain(DIGEST);
    expect(found?.text?.text).toContain('*What was found*');
    expect(done?.text?.text).toMatch(/^\*What was done\*\ncleared blobs::/);
    expect(repush?.text?.text).toContain(
      '```docker push harbor.example.com/team-a/payments-api:1.4.2```'
    );
    expect(context?.type).toBe('context');
    expect(msg.text).toContain('Manifest data missing');
  });

  it('says "would be done" in dry-run, links the ticket and escapes mrkdwn', () => {
    const msg = slackMessage(
      notification({
        mode: 'dry-run',
        outcome: 'would clear <3> keys & more',
        ticket: { id: 'OPS-7', url: 'https://x.atlassian.net/browse/OPS-7', created: true },
      })
    );
    const json = JSON.stringify(msg.blocks);
    expect(json).toContain('What would be done (dry-run)');
    expect(json).toContain('would clear &lt;3&gt; keys &amp; more');
    expect(json).toContain('<https://x.atlassian.net/browse/OPS-7|ticket OPS-7>');
    expect(escapeMrkdwn('<!channel>')).toBe('&lt;!channel&gt;');
  });
});

describe('SNS wording', () => {
  it('carries severity, project, repository and kind as attributes', () => {
    expect(notificationAttributes(notification())).toEqual({
      severity: 'critical',
      project: 'team-a',
      repository: 'team-a/payments-api',
      kind: 'manifest-data-missing',
    });
    expect(projectOf('a/b/c')).toBe('a');
    const noRepo = notificationAttributes(notification({ finding: finding({ repository: '' }) }));
    expect(noRepo).toEqual({ severity: 'critical', kind: 'manifest-data-missing' });
  });

  it('serialises the whole notification', () => {
    const body = JSON.parse(notificationJson(notification()));
    expect(body.finding.digest).toBe(DIGEST);
    expect(body.mode).toBe('enforce');
    expect(body.whatItBreaks).toContain('MANIFEST_UNKNOWN');
  });
});
