/** An error meant for the command line: its message is the whole story, its exit code chosen. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}
