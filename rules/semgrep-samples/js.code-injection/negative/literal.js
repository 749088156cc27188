const vm = require("vm");

// ok: js.code-injection
const globalObject = new Function("return this")();
// ok: js.code-injection
const add = new Function("a", "b", "return a + b");
// ok: js.code-injection
vm.runInNewContext("1 + 1", {});
// ok: js.code-injection
eval(`42`);

function parse(text) {
  // ok: js.code-injection
  return JSON.parse(text);
}

module.exports = { globalObject, add, parse };
