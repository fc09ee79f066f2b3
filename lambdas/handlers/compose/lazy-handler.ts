/**
 * A handler whose dependencies are built on the first invocation and kept for the container's
 * life (importing the module has no side effects, so tests import `makeHandler` freely). A failed
 * build is retried on the next invocation.
 */
import type { Context } from 'aws-lambda';

type AnyHandler<E, R> = (event: E, context: Context) => Promise<R>;

export function lazyHandler<E, R>(build: () => Promise<AnyHandler<E, R>>): AnyHandler<E, R> {
  let built: Promise<AnyHandler<E, R>> | undefined;
  return async (event, context) => {
    built ??= build().catch((err) => {
      built = undefined;
      throw err;
    });
    return (await built)(event, context);
  };
}
