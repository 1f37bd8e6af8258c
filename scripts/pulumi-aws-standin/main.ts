// Serves the aws stand-in over gRPC on a free loopback port and prints the port (first stdout line).
// The engine attaches to it with PULUMI_DEBUG_PROVIDERS=aws:<port> instead of launching a plugin.
import { main } from "@pulumi/pulumi/provider/index.js";
import { awsStandin } from "./provider.ts";

const region = process.env["AWS_REGION"] ?? "ap-northeast-1";
// The starter holds our stdin open; when it exits (even killed), stdin ends and so do we, so a
// crashed test run leaves no stand-in behind.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
await main(awsStandin({ region }), process.argv.slice(2));
