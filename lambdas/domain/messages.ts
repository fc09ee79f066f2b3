/**
 * What people read (pure): ticket titles and bodies, Jira's Atlassian Document Format, Slack
 * Block Kit, SNS message attributes. One wording for every channel, built from a Finding.
 */
import { createHash } from 'node:crypto';
import type { Notification } from './notification.ts';
import type { Finding, FindingKind } from './types.ts';

const TITLES: Record<FindingKind, string> = {
  'incomplete-push': 'Incomplete push',
  'manifest-data-missing': 'Manifest data missing',
  'layer-data-missing': 'Layer data missing',
  'webhook-without-commit': 'Push reported but not committed',
  'abandoned-upload': 'Abandoned upload',
  'blob-data-removed': 'Blob data removed',
};

const FOUND: Record<FindingKind, string> = {
  'incomplete-push':
    'Blobs were uploaded but no manifest revision link was written within the correlation window.',
  'manifest-data-missing':
    "The registry's Redis cache still describes this manifest, but its data object is missing from storage.",
  'layer-data-missing':
    "The registry's Redis cache still describes this layer, but its data object is missing from storage.",
  'webhook-without-commit':
    'Harbor reported the push (PUSH_ARTIFACT) but storage holds no manifest revision link for it.',
  'abandoned-upload': 'An upload session was left behind: objects remain under `_uploads`.',
  'blob-data-removed':
    'A blob data object was removed from storage (garbage collection, a lifecycle rule, the blob DELETE API or a person).',
};

const BREAKS: Record<FindingKind, string> = {
  'incomplete-push': 'The image is not pullable; the client saw an error or was interrupted.',
  'manifest-data-missing':
    'Pulls fail with MANIFEST_UNKNOWN, and a re-push answers 201 but never rewrites the manifest data while the cache entry stays.',
  'layer-data-missing':
    'Pulls fail with BLOB_UNKNOWN, and pushes skip the layer as "already exists", so a re-push does not repair it while the cache entry stays.',
  'webhook-without-commit': 'Pulls of this artifact fail with MANIFEST_UNKNOWN.',
  'abandoned-upload': 'Nothing breaks; the objects and the open multipart upload cost storage.',
  'blob-data-removed':
    'While the registry cache still describes the blob, a re-push skips it ("already exists") and pulls fail.',
};

export function findingTitle(kind: FindingKind): string {
  return TITLES[kind];
}

/** What was found, one sentence. */
export function whatWasFound(kind: FindingKind): string {
  return FOUND[kind];
}

/** What the finding breaks for users of the registry. */
export function whatItBreaks(kind: FindingKind): string {
  return BREAKS[kind];
}

/** Harbor project: the first path component of the repository. */
export function projectOf(repository: string): string {
  return repository.split('/')[0] ?? '';
}

/** `sha256:d072586aa4ec…` */
export function shortDigest(digest: string, hexChars = 12): string {
  const i = digest.indexOf(':');
  return i < 0 ? digest : digest.slice(0, i + 1 + hexChars);
}

/** Deterministic label naming one (kind, repository, digest|uploadId): the dedupe key of tickets. */
export function ticketLabel(finding: Finding): string {
  const subject = finding.digest ?? finding.uploadId ?? '';
  const h = createHash('sha256').update(`${finding.kind}|${finding.repository}|${subject}`);
  return `pushguard-${h.digest('hex').slice(0, 16)}`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function ticketTitle(finding: Finding): string {
  const ref = finding.tag
    ? `:${finding.tag}`
    : finding.digest
      ? `@${shortDigest(finding.digest)}`
      : '';
  return truncate(`[PushGuard] ${findingTitle(finding.kind)}: ${finding.repository}${ref}`, 250);
}

export interface TicketBodyInput {
  finding: Finding;
  /** What was done, or would be in dry-run. */
  outcome?: string;
  repushCommand?: string;
}

/** A Markdown body (GitHub renders it; Jira gets it through markdownToAdf). */
export function ticketBody({ finding, outcome, repushCommand }: TicketBodyInput): string {
  const lines = [
    `PushGuard found **${findingTitle(finding.kind).toLowerCase()}** in \`${finding.repository || '(no repository)'}\`.`,
    '',
    `- Repository: \`${finding.repository || '-'}\``,
  ];
  if (finding.digest) lines.push(`- Digest: \`${finding.digest}\``);
  if (finding.tag) lines.push(`- Tag: \`${finding.tag}\``);
  if (finding.uploadId) lines.push(`- Upload: \`${finding.uploadId}\``);
  lines.push(
    `- First seen: ${finding.firstSeen}`,
    `- Last seen: ${finding.lastSeen}`,
    `- Verified against storage: ${finding.verified ? 'yes' : 'no'}`,
    '',
    `**What was found:** ${whatWasFound(finding.kind)}`,
    '',
    `**What it breaks:** ${whatItBreaks(finding.kind)}`
  );
  if (outcome) lines.push('', `**What was done:** ${outcome}`);
  if (finding.evidence.length > 0) {
    lines.push('', '**Evidence:**');
    for (const e of finding.evidence.slice(0, 20)) lines.push(`- \`${e.replaceAll('`', "'")}\``);
  }
  if (repushCommand)
    lines.push(
      '',
      '**Repair:** once the cache keys are cleared, re-push:',
      '```',
      repushCommand,
      '```'
    );
  lines.push('', `Finding id: \`${finding.id}\``);
  return lines.join('\n');
}

/** The comment added to an open ticket when the same finding is seen again. */
export function ticketComment(finding: Finding, outcome?: string): string {
  const lines = [`PushGuard saw this again (last seen ${finding.lastSeen}).`];
  if (outcome) lines.push(`What was done: ${outcome}`);
  if (finding.evidence[0]) lines.push(`Evidence: \`${finding.evidence[0].replaceAll('`', "'")}\``);
  return lines.join('\n\n');
}

// ---------------------------------------------------------------------------------------------
// Atlassian Document Format (Jira Cloud REST v3): the Markdown subset ticketBody writes.

export interface AdfNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: AdfNode[];
  text?: string;
  marks?: { type: string }[];
}

export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

/** Inline `code` and **strong**; ADF text nodes are never empty. */
function inline(text: string): AdfNode[] {
  const out: AdfNode[] = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) out.push({ type: 'text', text: text.slice(last, m.index) });
    if (m[1] !== undefined) out.push({ type: 'text', text: m[1], marks: [{ type: 'code' }] });
    else out.push({ type: 'text', text: m[2] ?? '', marks: [{ type: 'strong' }] });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ type: 'text', text: text.slice(last) });
  return out;
}

function paragraph(lines: string[]): AdfNode {
  const content: AdfNode[] = [];
  lines.forEach((line, i) => {
    if (i > 0) content.push({ type: 'hardBreak' });
    content.push(...inline(line));
  });
  return { type: 'paragraph', content };
}

/** Converts the Markdown subset of ticketBody/ticketComment (paragraphs, `- ` lists, fences). */
export function markdownToAdf(markdown: string): AdfDoc {
  const content: AdfNode[] = [];
  const lines = markdown.split('\n');
  let para: string[] = [];
  let list: AdfNode[] = [];
  const flush = () => {
    if (para.length > 0) content.push(paragraph(para));
    if (list.length > 0) content.push({ type: 'bulletList', content: list });
    para = [];
    list = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('```')) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? '').startsWith('```'); i++)
        code.push(lines[i] ?? '');
      const text = code.join('\n');
      content.push({
        type: 'codeBlock',
        attrs: { language: 'shell' },
        ...(text ? { content: [{ type: 'text', text }] } : {}),
      });
    } else if (line.startsWith('- ')) {
      if (para.length > 0) {
        content.push(paragraph(para));
        para = [];
      }
      list.push({ type: 'listItem', content: [paragraph([line.slice(2)])] });
    } else if (line.trim() === '') {
      flush();
    } else {
      if (list.length > 0) flush();
      para.push(line);
    }
  }
  flush();
  if (content.length === 0) content.push({ type: 'paragraph', content: [] });
  return { type: 'doc', version: 1, content };
}

// ---------------------------------------------------------------------------------------------
// Slack Block Kit (incoming webhooks).

export interface SlackMessage {
  /** Fallback for notifications and clients without blocks. */
  text: string;
  blocks: Record<string, unknown>[];
}

/** Slack mrkdwn escaping: only &, < and > are control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const SEVERITY_ICON = {
  info: ':information_source:',
  warning: ':warning:',
  critical: ':rotating_light:',
};

function mrkdwn(text: string, max: number) {
  return { type: 'mrkdwn', text: truncate(text, max) };
}

export function slackMessage(n: Notification): SlackMessage {
  const f = n.finding;
  const title = `${findingTitle(f.kind)} in ${f.repository || 'the registry cache'}`;
  const field = (label: string, value: string) =>
    mrkdwn(`*${label}*\n${value ? `\`${escapeMrkdwn(value)}\`` : '-'}`, 2000);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: true } },
    {
      type: 'section',
      fields: [
        field('Repository', f.repository),
        field('Digest', f.digest ?? ''),
        field('Tag', f.tag ?? ''),
        mrkdwn(`*Severity*\n${SEVERITY_ICON[n.severity]} ${n.severity}`, 2000),
      ],
    },
    {
      type: 'section',
      text: mrkdwn(
        `*What was found*\n${escapeMrkdwn(whatWasFound(f.kind))}\n*What it breaks*\n${escapeMrkdwn(whatItBreaks(f.kind))}`,
        3000
      ),
    },
    {
      type: 'section',
      text: mrkdwn(
        `*${n.mode === 'dry-run' ? 'What would be done (dry-run)' : 'What was done'}*\n${escapeMrkdwn(n.outcome)}`,
        3000
      ),
    },
  ];
  if (n.repushCommand) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Re-push to repair*\n\`\`\`${escapeMrkdwn(n.repushCommand)}\`\`\``, 3000),
    });
  }
  const context = [`finding \`${escapeMrkdwn(f.id)}\``, `mode ${n.mode}`];
  if (n.ticket) context.push(`<${n.ticket.url}|ticket ${escapeMrkdwn(n.ticket.id)}>`);
  blocks.push({ type: 'context', elements: [mrkdwn(context.join(' · '), 2000)] });
  const text = truncate(
    `${SEVERITY_ICON[n.severity]} PushGuard: ${title}${f.digest ? ` (${shortDigest(f.digest)})` : ''}`,
    3000
  );
  return { text, blocks };
}

// ---------------------------------------------------------------------------------------------
// SNS: the JSON body and the attributes teams filter on.

/** `severity`, `project`, `repository`, `kind`; empty values are left out (SNS refuses them). */
export function notificationAttributes(n: Notification): Record<string, string> {
  const attrs: Record<string, string> = {
    severity: n.severity,
    project: projectOf(n.finding.repository),
    repository: n.finding.repository,
    kind: n.finding.kind,
  };
  for (const [k, v] of Object.entries(attrs)) if (!v) delete attrs[k];
  return attrs;
}

/** The SNS message: the notification as JSON plus the human wording. */
export function notificationJson(n: Notification): string {
  // SNS takes 256 KB: keep the 50 most significant pieces of evidence.
  const finding = { ...n.finding, evidence: n.finding.evidence.slice(0, 50) };
  return JSON.stringify({
    source: 'pushguard',
    title: ticketTitle(n.finding),
    whatWasFound: whatWasFound(n.finding.kind),
    whatItBreaks: whatItBreaks(n.finding.kind),
    ...n,
    finding,
  });
}
