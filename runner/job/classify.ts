// Reads each file's header to learn what it is; a file nobody recognises stops the run before any write.
import { unmappedHeaders } from "../core/extra-columns.ts";
import { ENTITIES, readerOf, type Entity, type SourceAdapter } from "../core/records.ts";
import { readCsvRecords } from "../input/csv-records.ts";
import type { InputFile } from "../input/location.ts";
import { csvDialect, newTally } from "../parse/chunk-source.ts";

export interface ClassifiedFile {
  file: InputFile;
  entity: Entity;
  headers: string[];
  /** Headers the adapter has no column for: their cells go to the entity's `extra`. */
  unmappedColumns: string[];
  /** A header and no record. */
  empty: boolean;
}

/** The header and whether any record follows it; a file without even a header is an error. */
async function readHead(
  adapter: SourceAdapter,
  file: InputFile,
): Promise<{ headers: string[]; empty: boolean }> {
  const stream = await file.open();
  try {
    const stats = newTally(file.name, "customers").encoding;
    let headers: string[] | undefined;
    for await (const item of readCsvRecords(stream, file.name, csvDialect(adapter), stats)) {
      if (item.kind === "row") return { headers: headers ?? [], empty: false };
      headers = item.headers;
    }
    if (!headers || headers.every((h) => h === ""))
      throw new Error(
        `${file.name}: no header line (the file is empty); every export starts with its column names`,
      );
    return { headers, empty: true };
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
    const { headers, empty } = await readHead(adapter, file);
    const entity = entityOf(adapter, headers);
    if (!entity) throw unrecognised(adapter, file, headers);
    const unmappedColumns = unmappedHeaders(readerOf(adapter, entity), headers);
    out.push({ file, entity, headers, unmappedColumns, empty });
  }
  return out.sort((a, b) => ENTITIES.indexOf(a.entity) - ENTITIES.indexOf(b.entity));
}
