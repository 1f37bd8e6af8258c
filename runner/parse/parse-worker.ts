// Worker thread entry: see parse-thread.ts.
import { parentPort, workerData } from "node:worker_threads";
import { newTally, preparedChunks } from "./chunk-source.ts";
import { listInputs } from "../input/location.ts";
import { CREDITS, type ParseJob, type WorkerMessage } from "./parse-thread.ts";
import { stageChunk, transferList } from "../sink/stage-plan.ts";
import { resolveSource } from "../sources/index.ts";

const job = workerData as ParseJob;
const port = parentPort!;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
let credits = CREDITS;
let granted: (() => void) | undefined;
port.on("message", () => {
  credits++;
  granted?.();
});

try {
  const adapter = await resolveSource(job.sourceName);
  const file = (await listInputs(job.input)).find((f) => f.name === job.fileName);
  if (!file) throw new Error(`${job.fileName}: no longer in ${job.input}`);
  const tally = newTally(file.name, job.entity);
  const chunks = preparedChunks({
    ...job,
    adapter,
    file,
    tally,
    onProgress: (progress) => post({ type: "progress", progress }),
  });
  for await (const prepared of chunks) {
    while (credits === 0) await new Promise<void>((r) => (granted = r));
    credits--;
    const chunk = stageChunk(prepared);
    post({ type: "chunk", chunk }, transferList(chunk));
  }
  post({ type: "done", tally });
} catch (err) {
  post({ type: "error", message: (err as Error).message, stack: (err as Error).stack });
}
