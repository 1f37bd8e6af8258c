// The entry Pulumi's Node.js runtime loads for `pulumi up -s shop-<id>`. Its loader refuses a module
// with both a default and named exports, so this file has the default export and nothing else.
import { shopProgram } from "./program.ts";

export default shopProgram;
