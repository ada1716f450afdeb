/** The kiqgate package's root folder (where package.json, fixtures/, lua/ and schemas/ live), from src/ or dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kiqgate') return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the kiqgate package root (package.json named kiqgate) above this module');
    dir = up;
  }
}
