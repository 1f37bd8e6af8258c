// Loads a stack entry the way Pulumi's Node.js runtime does for an ESM project
// (@pulumi/pulumi/cmd/run/run.js, "type": "module"): realpath of `main`, dynamic import of its file
// URL, the default export if there is one (and an error if there are named exports beside it),
// called if it is a function. The language host that runs run.js is not available here, so the
// inline program of the real-engine test goes through this instead.
import { readFile, realpath } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";

export async function loadProgramExport(mainPath: string): Promise<unknown> {
  const resolved = await realpath(path.resolve(mainPath));
  let programExport = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  if (Object.getOwnPropertyDescriptor(programExport, "default") !== undefined) {
    if (Object.keys(programExport).length !== 1)
      throw new Error(
        "expected entrypoint module to have either a default export or named exports but not both",
      );
    programExport = programExport["default"] as Record<string, unknown>;
  }
  return programExport;
}

/** The inline program equivalent of `pulumi up` in `projectDir`: Pulumi.yaml's `main`, loaded as above. */
export async function projectMain(projectDir: string): Promise<string> {
  const project = parse(await readFile(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { main?: string };
  return path.join(projectDir, project.main ?? "index.ts");
}

export async function runLikeNodeRuntime(mainPath: string): Promise<Record<string, unknown>> {
  const programExport = await loadProgramExport(mainPath);
  const result: unknown = programExport instanceof Function ? programExport() : programExport;
  return (await result) as Record<string, unknown>;
}
