const { execFileSync, execSync, spawn } = require("child_process");
const { quote } = require("shell-quote");

function build(branch) {
  // ok: js.shell-command-from-string
  execFileSync("git", ["checkout", branch]);
  // ok: js.shell-command-from-string
  execSync("npm ci");
  // ok: js.shell-command-from-string
  execSync(`npm run build`);
  // ok: js.shell-command-from-string
  execSync("git log " + "--oneline");
  // ok: js.shell-command-from-string
  spawn("git", ["log", `${branch}`]);
  // ok: js.shell-command-from-string
  spawn(`ls ${branch}`, { shell: false });
  // ok: js.shell-command-from-string
  execSync(quote(["git", "checkout", branch]));
  const pattern = /v(\d+)/;
  // ok: js.shell-command-from-string
  return pattern.exec(`v${branch}`);
}

module.exports = { build };
