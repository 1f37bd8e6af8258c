// Where this project's files are, whichever way it runs: TypeScript under tsx in the repository, or
// compiled JavaScript in dist/ (`npm run build`, the images). PROJECT_ROOT is the repository (an
// image's /app) either way, so node_modules/, stacks/ and scripts/ are found beside dist/.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const COMPILED = import.meta.url.endsWith(".js");

export const PROJECT_ROOT = fileURLToPath(new URL(COMPILED ? "../.." : "..", import.meta.url));

/** The URL of a module of the project beside `from` (an import.meta.url), as built: .ts or .js. */
export function moduleUrl(relative: string, from: string): string {
  return new URL(COMPILED ? relative.replace(/\.ts$/, ".js") : relative, from).href;
}

/** node's arguments that run an entry of the project (`bin/ikou.ts`) as built: compiled or under tsx. */
export function nodeEntryArgs(entry: string): string[] {
  return COMPILED
    ? [path.join(PROJECT_ROOT, "dist", entry.replace(/\.ts$/, ".js"))]
    : ["--import", "tsx", path.join(PROJECT_ROOT, entry)];
}
