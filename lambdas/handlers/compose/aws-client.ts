/**
 * Every AWS SDK client of the deployed functions is made here, so each one carries the same
 * observation point: a middleware that reports (client, command, input) of every call to the
 * observer registered under `AWS_CALL_OBSERVER` on globalThis, if any. Nothing is registered in
 * AWS; the artifact tests (test/artifact) register one to check each call against the role.
 */
export const AWS_CALL_OBSERVER = Symbol.for('pushguard.awsCallObserver');

export interface AwsCall {
  /** e.g. `S3Client`. */
  client: string;
  /** e.g. `PutObjectCommand`. */
  command: string;
  input: unknown;
  /** HTTP status of the answer; undefined when none came (network error, timeout). */
  status?: number;
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      mw: (next: (a: unknown) => Promise<unknown>, ctx: Record<string, unknown>) => unknown,
      opts: { step: 'initialize'; name: string }
    ): void;
  };
}

/** Adds the observation middleware to `client` and returns it. */
export function observed<C>(client: C): C {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next, ctx) => async (args: unknown) => {
      const observer = (globalThis as Record<symbol, unknown>)[AWS_CALL_OBSERVER];
      if (typeof observer !== 'function') return next(args);
      const report = (status?: number) =>
        (observer as (c: AwsCall) => void)({
          client: String(ctx.clientName),
          command: String(ctx.commandName),
          input: (args as { input?: unknown }).input,
          status,
        });
      try {
        const out = await next(args);
        report((out as { response?: { statusCode?: number } }).response?.statusCode);
        return out;
      } catch (err) {
        report((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode);
        throw err;
      }
    },
    { step: 'initialize', name: 'pushguardAwsCallObserver' }
  );
  return client;
}
