#!/usr/bin/env node
// Launcher of the built CLI (dist/cli/, `npm run build`; the published package ships it built).
// The CLI supports Node 20 (package.json engines); the SDK's Node 22 notice is noise on its stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// package.json engines: >=20.12 (crypto.hash); npm only warns, so say it plainly here.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 12)) {
  process.stderr.write(`pushguard: needs Node.js >= 20.12, this is ${process.version}\n`);
  process.exit(1);
}
// Stack traces name the TypeScript sources (dist/ ships its source maps; no measurable start-up cost).
process.setSourceMapsEnabled(true);
// A reader that stopped early (`| head`, `| grep -q`) is not an error: end quietly, as Unix tools do.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
});

let cli;
try {
  cli = await import('../dist/cli/main.mjs');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('main.mjs')) throw err;
  process.stderr.write('pushguard: the CLI is not built; run `npm run build` first\n');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv);
