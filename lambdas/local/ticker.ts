/** Runs a task every `intervalMs`, never two at once (a slow run delays the next one). */
export interface Ticker {
  /** Stops and waits for the run in progress. */
  stop(): Promise<void>;
}

export function startTicker(
  intervalMs: number,
  task: () => Promise<void>,
  onError: (err: unknown) => void
): Ticker {
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopping) {
      try {
        await task();
      } catch (err) {
        onError(err);
      }
      if (stopping) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, intervalMs);
      });
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
