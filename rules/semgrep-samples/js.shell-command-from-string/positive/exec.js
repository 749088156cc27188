const cp = require("child_process");
const { exec, execSync, spawn } = require("node:child_process");

function deploy(branch, target) {
  // ruleid: js.shell-command-from-string
  execSync(`git checkout ${branch}`);
  // ruleid: js.shell-command-from-string
  exec("rsync -a build/ " + target, () => {});
  const cmd = `tar czf ${target}.tgz build`;
  // ruleid: js.shell-command-from-string
  cp.exec(cmd);
  // ruleid: js.shell-command-from-string
  spawn(`ls ${target}`, { shell: true });
  // ruleid: js.shell-command-from-string
  spawn("ls", [`${target}/*`], { shell: "/bin/bash" });
  // ruleid: js.shell-command-from-string
  require("child_process").exec(`rm -rf ${target}`);
}

function grep(req, res) {
  // a request value in a built command: reported by this rule only, not also as a command from the request
  // ruleid: js.shell-command-from-string
  // ok: js.shell-command-from-request
  exec(`grep -r ${req.query.word} docs`, (err, out) => res.send(out));
}

module.exports = { deploy, grep };
