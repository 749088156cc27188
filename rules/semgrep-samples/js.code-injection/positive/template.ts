import { runInContext, createContext } from "node:vm";

export function render(template: string, data: object): unknown {
  const sandbox = createContext({ data });
  // ruleid: js.code-injection
  return runInContext(`\`${template}\``, sandbox);
}
