/** Polls for rows newer than the newest shown while live tail is on. */
import { isAbort } from './api';

export const LIVE_INTERVAL_MS = 2000;

export class LiveTail {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private controller: AbortController | null = null;

  /** `tick` fetches and inserts; it is never run twice at once. */
  constructor(private readonly tick: (signal: AbortSignal) => Promise<void>, private readonly onError: (err: Error) => void) {}

  get on(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.controller?.abort();
    this.controller = null;
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delay);
  }

  private async run(): Promise<void> {
    if (!this.running) return;
    const controller = new AbortController();
    this.controller = controller;
    try {
      await this.tick(controller.signal);
    } catch (err) {
      if (!isAbort(err)) this.onError(err as Error);
    }
    // Hidden tabs poll less: nobody is watching.
    if (this.running) this.schedule(document.hidden ? LIVE_INTERVAL_MS * 5 : LIVE_INTERVAL_MS);
  }
}
