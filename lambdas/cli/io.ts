/** Where a command's output lines go: stdout in the CLI, a buffer in tests. */
export interface CliIo {
  out(line: string): void;
}

export const stdoutIo: CliIo = { out: (line) => process.stdout.write(line) };
