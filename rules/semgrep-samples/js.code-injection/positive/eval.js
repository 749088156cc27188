const vm = require("vm");

function calculate(expression, context) {
  // ruleid: js.code-injection
  const total = eval(expression);
  // ruleid: js.code-injection
  const fn = new Function("a", "b", "return " + expression);
  // ruleid: js.code-injection
  const other = Function(`return ${expression}`);
  // ruleid: js.code-injection
  vm.runInNewContext(expression, context);
  // ruleid: js.code-injection
  vm.runInThisContext(context.source);
  // ruleid: js.code-injection
  const script = new vm.Script(context.source);
  return [total, fn, other, script];
}

module.exports = { calculate };
