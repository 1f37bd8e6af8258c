// A fixed number of connections, each writing one chunk at a time: N chunks in flight, never more.
import type { ChunkWriter } from "../sink/chunk-writer.ts";
import type { StagedChunk } from "../sink/stage-plan.ts";

export class Lanes {
  private readonly busy = new Map<ChunkWriter, Promise<void>>();
  private failure: unknown;
  constructor(private readonly writers: ChunkWriter[]) {}

  async submit(chunk: StagedChunk): Promise<void> {
    while (this.busy.size === this.writers.length) await Promise.race(this.busy.values());
    if (this.failure) throw this.failure;
    const writer = this.writers.find((w) => !this.busy.has(w))!;
    const job = writer
      .write(chunk)
      .then(() => undefined)
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => this.busy.delete(writer));
    this.busy.set(writer, job);
  }

  async drain(): Promise<void> {
    await Promise.all(this.busy.values());
    if (this.failure) throw this.failure;
  }
}
