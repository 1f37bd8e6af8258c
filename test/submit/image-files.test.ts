// The job image's build files: the Dockerfile and the CodeBuild buildspec parse, copy only files
// that exist, and keep the properties the job relies on (tini as PID 1, non-root, compiled entry).
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const dockerfile = readFileSync("Dockerfile", "utf8");
/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"))
  .map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op!.toUpperCase(), args: rest };
  });

describe("the runner image's build files", () => {
  it("Dockerfile: known instructions, two stages, COPY sources that exist, tini entrypoint, non-root", () => {
    const known = new Set(["ARG", "FROM", "WORKDIR", "COPY", "RUN", "ENV", "USER", "ENTRYPOINT", "CMD"]);
    for (const i of instructions) expect(known, i.op).toContain(i.op);
    expect(instructions.filter((i) => i.op === "FROM")).toHaveLength(2);
    for (const copy of instructions.filter((i) => i.op === "COPY" && !i.args[0]!.startsWith("--from"))) {
      for (const src of copy.args.slice(0, -1)) expect(existsSync(src), `COPY ${src}`).toBe(true);
    }
    const entry = JSON.parse(instructions.find((i) => i.op === "ENTRYPOINT")!.args.join(" ")) as string[];
    expect(entry.slice(0, 3)).toEqual(["/usr/bin/tini", "--", "node"]);
    expect(entry[3]).toBe("/app/dist/bin/ikou.js");
    expect(instructions.find((i) => i.op === "USER")!.args[0]).toBe("10001:10001");
    expect(dockerfile).not.toMatch(/\btsx\b.*ENTRYPOINT|ENTRYPOINT.*tsx/);
  });

  it("copies every source folder `npm run build` compiles, so the build stage compiles what the repo does", () => {
    const include = (
      JSON.parse(readFileSync("tsconfig.build.json", "utf8").replace(/^\s*\/\/.*$/gm, "")) as {
        include: string[];
      }
    ).include;
    const copied = instructions
      .filter((i) => i.op === "COPY" && !i.args[0]!.startsWith("--from"))
      .flatMap((i) => i.args.slice(0, -1));
    expect(include.filter((src) => !copied.includes(src))).toEqual([]);
    const ignore = readFileSync(".dockerignore", "utf8");
    for (const src of include) expect(ignore, src).toMatch(new RegExp(`^!${src}/?$`, "m"));
  });

  it(".dockerignore lets in what the Dockerfile copies and keeps stack files out", () => {
    const ignore = readFileSync(".dockerignore", "utf8");
    for (const src of ["package.json", "bin/", "runner/", "submit/", "lib/"])
      expect(ignore).toContain(`!${src}`);
    expect(ignore).toContain("stacks/Pulumi.*.yaml");
  });

  it("buildspec: version 0.2, builds this Dockerfile and pushes an immutable commit tag", () => {
    const spec = parse(readFileSync("buildspec.yml", "utf8")) as {
      version: number;
      phases: Record<string, { commands: string[] }>;
      artifacts: { files: string[] };
    };
    expect(spec.version).toBe(0.2);
    const commands = Object.values(spec.phases)
      .flatMap((p) => p.commands)
      .join("\n");
    expect(commands).toContain("docker build --file Dockerfile");
    expect(existsSync("Dockerfile")).toBe(true);
    expect(commands).toContain('TAG="${CODEBUILD_RESOLVED_SOURCE_VERSION:0:12}"');
    expect(commands).toMatch(/describe-images .*imageTag="\$TAG"/);
    expect(commands).toContain('docker push "$RUNNER_REPOSITORY_URL:$TAG"');
  });
});
