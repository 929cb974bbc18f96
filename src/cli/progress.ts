/** A one-line progress bar on a terminal (stderr); silent when not a TTY. */
export class Progress {
  private last = 0;
  private readonly started = Date.now();

  constructor(private readonly total: number, private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get enabled(): boolean {
    return Boolean(this.stream.isTTY) && this.total > 0;
  }

  update(done: number, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const ratio = Math.min(1, done / this.total);
    const width = 30;
    const filled = Math.round(ratio * width);
    const rate = done / Math.max(0.001, (now - this.started) / 1000);
    this.stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en')}/${this.total.toLocaleString('en')} rows  ${Math.round(rate).toLocaleString('en')} rows/s`);
  }

  finish(done: number): void {
    if (!this.enabled) return;
    this.update(done, true);
    this.stream.write('\n');
  }
}
