// envsvc as a process of its own (its source under tsx, or an image's entrypoint), for the tests that
// kill or signal it: started, its URL read from the line it prints, its stderr kept for failures.
import { spawn, type ChildProcess } from "node:child_process";

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** The exit code (null after a signal), once the process has closed. */
  exited: Promise<number | null>;
  stderr(): string;
}

export async function startServiceProcess(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<ServiceProcess> {
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /envsvc listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`envsvc exited ${code}: ${err.slice(-2000)}`)));
  });
  return { child, url, exited, stderr: () => err };
}

/** A bearer-token JSON call to the service. */
export async function callService(
  base: string,
  token: string,
  method: string,
  url: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever JSON came back
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}
