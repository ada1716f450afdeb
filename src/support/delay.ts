/** A timer as a promise that can be cut short: `cancel()` clears the timer and resolves at once. */
export function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let done!: () => void;
  const promise = new Promise<void>((resolve) => { done = resolve; timer = setTimeout(resolve, ms); });
  return { promise, cancel: () => { clearTimeout(timer); done(); } };
}
