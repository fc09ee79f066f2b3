/**
 * The window store's outbox: findings written in the same atomic script as the state that
 * reported them, published page by page, each entry leaving only once its page was published.
 */
import { randomBytes } from 'node:crypto';
import type { Finding } from '../domain/types.ts';
import type { WindowScripts } from './redis-window-scripts.ts';

/**
 * Publishes outbox findings page by page under a lease; an entry leaves the outbox only after
 * `publish` resolved. A failing publish leaves its page in place (and rethrows); a concurrent
 * drainer holding the lease makes this call return what it published so far.
 */
export async function drainOutbox(
  scripts: Pick<WindowScripts, 'leaseOutbox' | 'ackOutbox'>,
  key: { lease: string; outbox: string },
  options: { leaseMs: number; pageSize: number },
  publish: (findings: Finding[]) => Promise<void>
): Promise<Finding[]> {
  const published: Finding[] = [];
  const keys = [key.lease, key.outbox];
  for (;;) {
    const token = randomBytes(9).toString('base64url');
    const entries = await scripts.leaseOutbox(keys, [token, options.leaseMs, options.pageSize]);
    if (!entries || entries.length === 0) return published;
    const findings = uniqueFindings(entries);
    try {
      if (findings.length > 0) await publish(findings);
    } catch (err) {
      await scripts.ackOutbox(keys, [token]);
      throw err;
    }
    await scripts.ackOutbox(keys, [token, ...entries]);
    published.push(...findings);
    if (entries.length < options.pageSize) return published;
  }
}

function uniqueFindings(entries: readonly string[]): Finding[] {
  const byId = new Map<string, Finding>();
  for (const entry of entries) {
    try {
      const finding = (JSON.parse(entry) as { finding: Finding }).finding;
      if (finding && !byId.has(finding.id)) byId.set(finding.id, finding);
    } catch {
      // An entry this store did not write: dropped with the page rather than blocking the outbox.
    }
  }
  return [...byId.values()];
}
