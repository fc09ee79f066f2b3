/**
 * What `pushguard local` prints. `--json`: stdout carries only JSON lines, the `ready` line first,
 * then one line per finding and per action; everything else goes to stderr. Otherwise: a banner
 * with the registry settings, then one readable line per finding and action.
 */
import { findingJson } from '../cli/format.ts';
import type { Finding } from '../domain/types.ts';

export interface ReadyInfo {
  s3Endpoint: string;
  bucket: string;
  region: string;
  webhookUrl: string;
  /** Redis base URL (password removed). */
  redis: string;
  registryDb: number;
  stateDb: number;
  rootDirectory: string;
  mode: 'dry-run' | 'enforce';
  eventsQueueUrl: string;
  findingsQueueUrl: string;
  topicArn: string;
  auditDir: string;
  /** Where the emulator keeps the buckets; null when in memory (`--ephemeral`). */
  dataDir: string | null;
  /** Current objects found there at start. */
  objectsFound: number;
  /** Noncurrent versions and delete markers found there at start. */
  otherVersionsFound: number;
  /** Set only when PushGuard generated the webhook secret. */
  webhookAuthorization?: string;
  /** The registry config.yml snippet. */
  registryConfig: string;
}

/** A remediation outcome as printed (the ActionReport fields of lambdas/app/remediate.ts). */
export type ActionLine = Record<string, unknown>;

export interface Reporter {
  ready(info: ReadyInfo): void;
  finding(finding: Finding): void;
  action(report: ActionLine): void;
  /** Operator messages (stderr in both modes). */
  log(message: string): void;
}

export interface ReporterStreams {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
}

/** The `replay --json` fields of a finding, plus its stable id. */
export function findingFields(f: Finding): Record<string, unknown> {
  return { id: f.id, ...findingJson(f) };
}

export function jsonReporter(streams: ReporterStreams): Reporter {
  const line = (o: Record<string, unknown>) => streams.out.write(`${JSON.stringify(o)}\n`);
  return {
    ready: ({ registryConfig, ...info }) => {
      line({ event: 'ready', ...info });
      streams.err.write(registryConfig);
    },
    finding: (f) => line({ event: 'finding', ...findingFields(f) }),
    action: (a) => line({ event: 'action', ...a }),
    log: (m) => streams.err.write(`${m}\n`),
  };
}

const short = (d: unknown) => (typeof d === 'string' && d.length > 19 ? `${d.slice(0, 19)}…` : d);

/** Where the bucket lives and what was found there (a restart must find what was pushed). */
export function storageLine(i: Pick<ReadyInfo, 'dataDir' | 'objectsFound' | 'otherVersionsFound'>) {
  if (i.dataDir === null) return 'in memory (--ephemeral): lost when pushguard local stops';
  const versions = i.otherVersionsFound > 0 ? ` and ${i.otherVersionsFound} older versions` : '';
  return `${i.dataDir} (found ${i.objectsFound} objects${versions})`;
}

export function textReporter(streams: ReporterStreams): Reporter {
  const out = (s: string) => streams.out.write(`${s}\n`);
  return {
    ready: (i) => {
      out(`pushguard local (${i.mode}${i.mode === 'dry-run' ? ': nothing is deleted' : ''})`);
      out(`  S3 endpoint   ${i.s3Endpoint}  bucket ${i.bucket}  region ${i.region}`);
      out(`  Webhook       ${i.webhookUrl}`);
      if (i.webhookAuthorization) out(`  Auth Header   ${i.webhookAuthorization}`);
      out(`  Redis         ${i.redis}  registry DB ${i.registryDb}  state DB ${i.stateDb}`);
      out(`  S3 data       ${storageLine(i)}`);
      out(`  Audit records ${i.auditDir}`);
      out('');
      out(i.registryConfig);
      out('Harbor: Project > Webhooks > + New webhook, Endpoint URL and Auth Header as above.');
      out('Watching. Ctrl-C stops everything this started.');
    },
    finding: (f) =>
      out(
        `finding  ${f.kind}  ${f.repository}  ${short(f.digest) ?? '-'}${f.tag ? `  tag ${f.tag}` : ''}  ${
          f.verified ? 'verified' : 'unverified'
        }  -> ${f.action}`
      ),
    action: (a) => {
      const parts = Object.entries(a)
        .filter(
          ([k, v]) =>
            v !== undefined && v !== null && typeof v !== 'object' && k !== 'repushCommand'
        )
        .map(([k, v]) => `${k}=${short(v)}`);
      const cleared =
        Array.isArray(a.clearedKeys) && a.clearedKeys.length > 0
          ? `  cleared=${a.clearedKeys.join(',')}`
          : '';
      out(`action   ${parts.join('  ')}${cleared}`);
      // The command people copy is printed whole, on its own line.
      if (typeof a.repushCommand === 'string') out(`         re-push: ${a.repushCommand}`);
    },
    log: (m) => streams.err.write(`${m}\n`),
  };
}
