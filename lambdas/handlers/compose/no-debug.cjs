'use strict';
// ioredis logs through `debug` only when DEBUG=ioredis:* is set; never in a function.
function debug() {
  const log = () => {};
  log.enabled = false;
  log.namespace = '';
  log.extend = () => log;
  log.destroy = () => true;
  return log;
}
debug.enable = () => {};
debug.disable = () => '';
debug.enabled = () => false;
module.exports = debug;
module.exports.default = debug;
