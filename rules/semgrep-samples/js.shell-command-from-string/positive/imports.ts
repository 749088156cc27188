import { execSync as run } from "child_process";
import * as child from "node:child_process";

export function tag(version: string): void {
  // ruleid: js.shell-command-from-string
  run(`git tag v${version}`);
  // ruleid: js.shell-command-from-string
  child.exec("npm version " + version);
  // ruleid: js.shell-command-from-string
  child.execFileSync("sh", ["-c", `echo ${version}`], { shell: true });
}
