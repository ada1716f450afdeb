/**
 * A task run now and then at a fixed rate, one run at a time: the shared lifecycle of the
 * engine's heartbeats (Sidekiq's process beat, Verk's node beat). A slow run does not push the
 * next one back (fixed rate, so a key refreshed each run never lapses because of its own run);
 * a manual `runNow()` while a run is in flight shares that run; `stop()` waits for it, so a run
 * never writes after the service has cleaned up.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private running = false;

  constructor(
    private readonly periodMs: number,
    private readonly work: () => Promise<void>,
    /** Called with a run's error; the task goes on at the next period. */
    private readonly onError: (err: unknown) => void,
  ) {}

  get active(): boolean {
    return this.running;
  }

  /** Runs once now, then every period until stop(). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.runNow();
    this.arm(this.periodMs);
  }

  /** One run now; concurrent calls share the run in flight. Never rejects. */
  runNow(): Promise<void> {
    this.inFlight ??= this.work()
      .catch((err: unknown) => this.onError(err))
      .finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  /** Stops the timer and waits for a run in flight. Resolves false when it was not running. */
  async stop(): Promise<boolean> {
    if (!this.running) return false;
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    return true;
  }

  private arm(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      const began = Date.now();
      void this.runNow().then(() => this.arm(Math.max(0, this.periodMs - (Date.now() - began))));
    }, delayMs);
    this.timer.unref();
  }
}
