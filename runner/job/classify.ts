// Reads each file's header to learn what it is; a file nobody recognises stops the run before any write.
import { ENTITIES, type Entity, type SourceAdapter } from "../core/records.ts";
import { readCsvRecords } from "../input/csv-records.ts";
import type { InputFile } from "../input/location.ts";
import { csvDialect, newTally } from "../parse/chunk-source.ts";

export interface ClassifiedFile {
  file: InputFile;
  entity: Entity;
  headers: string[];
}

async function readHeaders(adapter: SourceAdapter, file: InputFile): Promise<string[]> {
  const stream = await file.open();
  try {
    const stats = newTally(file.name, "customers").encoding;
    for await (const item of readCsvRecords(stream, file.name, csvDialect(adapter), stats)) {
      return item.kind === "header" ? item.headers : [];
    }
    return [];
  } finally {
    stream.destroy();
  }
}

function entityOf(adapter: SourceAdapter, headers: readonly string[]): Entity | undefined {
  return ENTITIES.find((entity) =>
    adapter.readers[entity]?.identify.some((set) => set.every((h) => headers.includes(h))),
  );
}

function unrecognised(adapter: SourceAdapter, file: InputFile, headers: readonly string[]): Error {
  const kinds = ENTITIES.flatMap((entity) =>
    (adapter.readers[entity]?.identify ?? []).map((set) => `${entity} (needs ${set.join(", ")})`),
  ).join("; ");
  return new Error(
    `${file.name} line 1: header matches no ${adapter.system} export: ${kinds}. First headers: ${headers.slice(0, 5).join(", ")}. Is the encoding ${adapter.encoding}?`,
  );
}

/** The files in load order (customers, products, orders: orders reference the other two). */
export async function classify(adapter: SourceAdapter, files: InputFile[]): Promise<ClassifiedFile[]> {
  const out: ClassifiedFile[] = [];
  for (const file of files) {
    const headers = await readHeaders(adapter, file);
    const entity = entityOf(adapter, headers);
    if (!entity) throw unrecognised(adapter, file, headers);
    out.push({ file, entity, headers });
  }
  return out.sort((a, b) => ENTITIES.indexOf(a.entity) - ENTITIES.indexOf(b.entity));
}
