/**
 * The local S3/SQS/SNS emulator: fauxqs in-process on 127.0.0.1 (never its CLI, which binds
 * 0.0.0.0), with its S3 store replaced by the emulator store (S3 listing order, change feed) and the
 * additions below answering, in an `onRequest` hook, the requests fauxqs gets wrong. Everything else
 * (GetObject, HeadObject, PutObject, CreateMultipartUpload, Abort, DeleteObjects, SQS, SNS) is fauxqs.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bucketVersioning } from './bucket-versioning.ts';
import { completeMultipartUpload } from './complete-multipart-upload.ts';
import { copyObject } from './copy-object.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { deleteObject } from './delete-object.ts';
import { deleteObjects } from './delete-objects.ts';
import { DiskPersistence } from './disk-persistence.ts';
import type { EmulatorStore, ObjectChange } from './emulator-store.ts';
import { EmulatorS3Store } from './emulator-store.ts';
import {
  buildApp,
  type FauxqsApp,
  type FauxqsInternals,
  type FauxS3Store,
  type FauxSqsStore,
  fauxqsInternals,
  isFauxS3Error,
} from './fauxqs-internals.ts';
import { listMultipartUploads } from './list-multipart-uploads.ts';
import { listObjectVersions } from './list-object-versions.ts';
import { listParts } from './list-parts.ts';
import { objectVersion } from './object-version.ts';
import { putObject } from './put-object.ts';
import type { S3Addition, S3Call, S3Context } from './s3-call.ts';
import { S3ApiError } from './s3-errors.ts';
import {
  createS3EventNotifier,
  createSequencer,
  type NotificationConfig,
  sqsDestination,
} from './s3-notifications.ts';
import { uploadPart } from './upload-part.ts';
import { uploadPartCopy } from './upload-part-copy.ts';

/** Every addition, each fixing one gap of fauxqs 1.9.2 (see the README, "Emulator additions"). */
export const ADDITIONS: readonly S3Addition[] = [
  listMultipartUploads,
  listParts,
  completeMultipartUpload,
  uploadPart,
  uploadPartCopy,
  copyObject,
  putObject,
  bucketVersioning,
  listObjectVersions,
  objectVersion,
  deleteObject,
  deleteObjects,
];

export interface S3EmulatorOptions {
  /** 0 picks a free port. */
  port: number;
  region?: string;
  /** Buckets created at start. */
  buckets?: string[];
  /** Replace the set of additions (tests use this to show a gap). */
  additions?: readonly S3Addition[];
  /** Keep the buckets in this directory (disk-persistence.ts); in memory when absent. */
  dataDir?: string;
}

/** Where the buckets live, and what was found there at start. */
export interface EmulatorStorage {
  /** Absolute path, or undefined when in memory. */
  dataDir: string | undefined;
  /** Current objects found at start, over all buckets. */
  objects: number;
  /** Noncurrent versions and delete markers found at start. */
  otherVersions: number;
}

export interface S3Emulator {
  endpoint: string;
  port: number;
  region: string;
  store: FauxS3Store & EmulatorStore;
  sqsStore: FauxSqsStore;
  internals: FauxqsInternals;
  app: FauxqsApp;
  storage: EmulatorStorage;
  /** Sends S3 event notifications for `bucket` to the emulator's SQS queue `queueArn`. */
  notify(bucket: string, queueArn: string, config?: Partial<NotificationConfig>): void;
  close(): Promise<void>;
}

function callOf(request: FastifyRequest): S3Call | undefined {
  const params = request.params as { bucket?: string; '*'?: string } | undefined;
  if (!params?.bucket) return undefined;
  return {
    method: request.method,
    bucket: params.bucket,
    key: params['*'] ?? '',
    query: (request.query ?? {}) as Record<string, string>,
    headers: request.headers,
    raw: request.raw,
    requestId: randomBytes(8).toString('hex').toUpperCase(),
  };
}

function sendError(reply: FastifyReply, err: unknown, requestId: string): void {
  if (err instanceof S3ApiError) {
    reply.code(err.statusCode).headers(err.headers).header('content-type', 'application/xml');
    reply.send(err.toXml(requestId));
  } else if (isFauxS3Error(err)) {
    reply.code(err.statusCode).header('content-type', 'application/xml').send(err.toXml());
  } else {
    const message = err instanceof Error ? err.message : String(err);
    reply.code(500).header('content-type', 'application/xml');
    reply.send(new S3ApiError('InternalError', message, 500).toXml(requestId));
  }
}

/** Locks the directory, loads its buckets into the store and writes every later change through. */
function openDataDir(dir: string, store: FauxS3Store & EmulatorStore) {
  const dataDir = resolve(dir);
  mkdirSync(dataDir, { recursive: true });
  const release = lockDataDir(dataDir);
  try {
    const persistence = new DiskPersistence(dataDir);
    const storage: EmulatorStorage = { dataDir, objects: 0, otherVersions: 0 };
    for (const [bucket, saved] of persistence.load()) {
      store.load(bucket, saved);
      const current = store.buckets.get(bucket)?.size ?? 0;
      storage.objects += current;
      storage.otherVersions += saved.versions.length - current;
    }
    store.versions.observer = persistence;
    return { storage, release };
  } catch (err) {
    release();
    throw err;
  }
}

/** In an `onRequest` hook: the first addition that matches answers; fauxqs answers the rest. */
function routeAdditions(app: FauxqsApp, additions: readonly S3Addition[], ctx: S3Context): void {
  app.addHook('onRequest', async (request, reply) => {
    const call = callOf(request);
    if (!call) return;
    const addition = additions.find((a) => a.matches(call));
    if (!addition) {
      for (const a of additions) reply.headers(a.decorate?.(call, ctx) ?? {});
      return;
    }
    reply.header('x-amz-request-id', call.requestId).header('x-amz-id-2', 'pushguard-local');
    try {
      const answer = await addition.handle(call, ctx);
      reply.code(answer.status).headers(answer.headers ?? {});
      reply.send(answer.body ?? '');
    } catch (err) {
      sendError(reply, err, call.requestId);
    }
    return reply;
  });
}

export async function startS3Emulator(options: S3EmulatorOptions): Promise<S3Emulator> {
  const internals = await fauxqsInternals();
  const store = new EmulatorS3Store();
  const sqsStore = new internals.SqsStore();
  const snsStore = new internals.SnsStore();
  const region = options.region ?? 'us-east-1';
  const additions = options.additions ?? ADDITIONS;
  const app = buildApp({
    logger: false,
    host: '127.0.0.1',
    defaultRegion: region,
    // The declared store types are fauxqs's own classes, which it does not export.
    stores: { s3Store: store, sqsStore, snsStore } as never,
  });
  routeAdditions(app, additions, { store, internals });

  const listeners: ((change: ObjectChange) => void)[] = [];
  store.onChange = (change) => {
    for (const listener of listeners) listener(change);
  };
  const persisted = options.dataDir ? openDataDir(options.dataDir, store) : undefined;
  for (const bucket of options.buckets ?? []) store.createBucket(bucket);

  try {
    await app.listen({ host: '127.0.0.1', port: options.port });
  } catch (err) {
    // The directory stays usable by the next start (the port was taken, say).
    persisted?.release();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const nextSequencer = createSequencer();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    region,
    store,
    sqsStore,
    internals,
    app,
    storage: persisted?.storage ?? { dataDir: undefined, objects: 0, otherVersions: 0 },
    notify(bucket, queueArn, config) {
      const notifier = createS3EventNotifier(
        { region, configurationId: 'pushguard-local', ...config },
        sqsDestination(sqsStore, internals.SqsStore, queueArn),
        nextSequencer
      );
      listeners.push((change) => {
        if (change.bucket === bucket) notifier(change);
      });
    },
    close: async () => {
      await app.close();
      persisted?.release();
    },
  };
}
