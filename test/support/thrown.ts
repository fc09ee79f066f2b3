/** What `fn` throws, or `undefined` when it returns: assert on it unconditionally. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
