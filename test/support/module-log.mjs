/**
 * `node --import ./test/support/module-log.mjs …`: appends the URL of every module the process
 * resolves (ESM imports, through a resolve hook) and, at exit, every CommonJS module it loaded to
 * the file named by PUSHGUARD_MODULE_LOG. test/cli/lazy-loading.test.ts reads it.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const log = process.env.PUSHGUARD_MODULE_LOG;
if (log) {
  register('./module-log-hooks.mjs', import.meta.url);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    const urls = Object.keys(cache).map((f) => pathToFileURL(f).href);
    appendFileSync(log, urls.map((u) => `${u}\n`).join(''));
  });
}
