// A global cap on concurrent Pulumi operations with a FIFO queue. Closing it (SIGTERM) lets the
// running ones finish and turns the waiting ones away, so they stay recorded as queued for resume.

export class QueueClosedError extends Error {
  constructor() {
    super("the service is shutting down");
    this.name = "QueueClosedError";
  }
}

export class OperationQueue {
  private running = 0;
  private readonly waiting: Array<{ start: () => void; reject: (err: Error) => void }> = [];
  private closed = false;
  private readonly idle = new Set<() => void>();

  constructor(private readonly cap: number) {
    if (!Number.isInteger(cap) || cap < 1)
      throw new Error(`operation cap must be a positive integer, got ${cap}`);
  }

  get stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `work` once a slot is free, in arrival order. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new QueueClosedError();
    if (this.running >= this.cap)
      await new Promise<void>((start, reject) => this.waiting.push({ start, reject }));
    else this.running++;
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next in line: no newcomer can overtake it.
    if (next) return next.start();
    this.running--;
    if (this.running === 0) for (const done of this.idle) done();
  }

  /** Refuses new work, turns the waiting away, resolves when the running operations are done. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new QueueClosedError());
    if (this.running === 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.idle.delete(done);
        resolve();
      };
      this.idle.add(done);
    });
  }
}
