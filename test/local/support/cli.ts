/** Runs `node bin/pushguard.mjs local --json …` as a child process and follows its JSON lines. */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface LocalProcess {
  child: ChildProcess;
  /** Every stdout line, parsed, in order (the first is `ready`). */
  lines: Record<string, unknown>[];
  /** Lines of stdout that were not JSON objects (there must be none). */
  noise: string[];
  stderr(): string;
  /** Resolves with the first line (from index 0) matching `match`; rejects if the process exits. */
  next(
    match: (line: Record<string, unknown>) => boolean,
    what: string
  ): Promise<Record<string, unknown>>;
  /** SIGTERM and the exit code. */
  terminate(): Promise<number | null>;
}

/** Without `--data-dir` in `args`, the bucket is in memory (`--ephemeral`), not in the repo. */
export function startLocalCli(args: string[], env: NodeJS.ProcessEnv = {}): LocalProcess {
  const storage = args.includes('--data-dir') ? [] : ['--ephemeral'];
  const cli = [join(root, 'bin', 'pushguard.mjs'), 'local', ...storage, ...args];
  const child = spawn(process.execPath, cli, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const noise: string[] = [];
  let err = '';
  let exited = false;
  const wake = new Set<() => void>();
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        lines.push(parsed as Record<string, unknown>);
      } else noise.push(line);
    } catch {
      noise.push(line);
    }
    for (const w of [...wake]) w();
  });
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      for (const w of [...wake]) w();
      resolve(code);
    })
  );
  return {
    child,
    lines,
    noise,
    stderr: () => err,
    next: (match, what) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find(match);
          if (hit) {
            wake.delete(check);
            resolve(hit);
          } else if (exited) {
            wake.delete(check);
            reject(new Error(`pushguard local exited before ${what}:\n${err.slice(-3000)}`));
          }
        };
        wake.add(check);
        check();
      }),
    terminate: async () => {
      if (!exited) child.kill('SIGTERM');
      return exit;
    },
  };
}
