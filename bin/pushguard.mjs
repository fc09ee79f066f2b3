#!/usr/bin/env node
// Thin launcher: runs the TypeScript CLI through tsx so no build step is needed.
import { register } from 'tsx/esm/api';

// The CLI supports Node 20 (package.json engines); the SDK's Node 22 notice is noise on its stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { main } = await import('../lambdas/cli/main.ts');
process.exitCode = await main(process.argv);
