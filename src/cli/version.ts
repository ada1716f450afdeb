/** `kiqgate --version`: the version in kiqgate's own package.json (found from src/ or dist/). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../support/package-root.js';

export function kiqgateVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Prints `kiqgate <version>` on stdout; the command's exit code (0). */
export function printVersion(): number {
  process.stdout.write(`kiqgate ${kiqgateVersion()}\n`);
  return 0;
}
