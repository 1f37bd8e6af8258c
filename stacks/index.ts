// The entry Pulumi's Node.js runtime loads for `pulumi up -s <stack>`. Its loader refuses a module
// with both a default and named exports, so this file has the default export and nothing else.
import { stackProgram } from "./programs.ts";

export default stackProgram;
