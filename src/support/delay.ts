/** A timer as a promise that can be cut short: `cancel()` clears the timer and resolves at once. */
export function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let done!: () => void;
  const promise = new Promise<void>((resolve) => { done = resolve; timer = setTimeout(resolve, ms); });
  return { promise, cancel: () => { clearTimeout(timer); done(); } };
}

/**
 * A deadline as a promise that fires once, at `ms` from now or earlier: `bringForward(ms)`
 * moves it to `ms` from now when that is sooner (a forced stop shortens stop()'s wait for Redis).
 */
export function deadline(ms: number): { promise: Promise<void>; cancel: () => void; bringForward: (ms: number) => void } {
  let done!: () => void;
  const promise = new Promise<void>((resolve) => { done = resolve; });
  let at = Date.now() + ms;
  let timer = setTimeout(done, ms);
  return {
    promise,
    cancel: () => { clearTimeout(timer); done(); },
    bringForward: (sooner) => {
      if (Date.now() + sooner >= at) return;
      at = Date.now() + sooner;
      clearTimeout(timer);
      timer = setTimeout(done, sooner);
    },
  };
}
