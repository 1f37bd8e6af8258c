// Serves the aws stand-in over gRPC on a free loopback port and prints the port (first stdout line).
// The engine attaches to it with PULUMI_DEBUG_PROVIDERS=aws:<port> instead of launching a plugin.
import { main } from "@pulumi/pulumi/provider/index.js";
import { awsStandin } from "./provider.ts";

const region = process.env["AWS_REGION"] ?? "ap-northeast-1";
await main(awsStandin({ region }), process.argv.slice(2));
