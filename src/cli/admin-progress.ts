/**
 * A progress bar on stderr for long bulk actions, drawn only when stderr is a terminal (a pipe
 * or a log file gets nothing, so scripts parsing stdout or stderr see no control characters),
 * redrawn at most ten times a second, erased when done.
 */
import type { BulkProgress, ProgressFn } from '../admin/index.js';

const WIDTH = 30;
const EVERY_MS = 100;

export interface ProgressBar {
  update: ProgressFn;
  /** Erases the bar (call once the action ended, either way). */
  done(): void;
}

/** A bar labelled `label` on `stream` (default stderr), or a no-op when it is not a TTY. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { update: () => {}, done: () => {} };
  const started = Date.now();
  let last = 0;
  let drawn = false;
  const draw = (p: BulkProgress) => {
    const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const fill = Math.round(frac * WIDTH);
    const rate = p.done / Math.max(0.001, (Date.now() - started) / 1000);
    stream.write(`\r${label} [${'#'.repeat(fill)}${'-'.repeat(WIDTH - fill)}] ${p.done}/${p.total} ${Math.round(frac * 100)}% ${Math.round(rate)}/s`);
    drawn = true;
  };
  return {
    update(p) {
      const now = Date.now();
      if (now - last < EVERY_MS && p.done < p.total) return;
      last = now;
      draw(p);
    },
    done() {
      if (drawn) stream.write('\r\u001b[2K');
    },
  };
}
