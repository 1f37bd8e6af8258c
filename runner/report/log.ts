// The one logger: structured JSON on stderr (stdout is for the report), never secrets.
import pino from "pino";

export const log = pino(
  {
    name: "ikou",
    level: process.env.LOG_LEVEL ?? "info",
    // A DB URL carries the password; any field by these names is masked wherever it appears.
    redact: { paths: ["db", "url", "password", "*.db", "*.url", "*.password"], censor: "[redacted]" },
  },
  pino.destination(2),
);

export type Logger = typeof log;
