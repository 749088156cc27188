const child_process = require("child_process");
const { exec, execSync, spawn } = require("child_process");
const util = require("util");
const express = require("express");

const app = express();

app.post("/run", (req, res) => {
  // ruleid: js.shell-command-from-request
  exec(req.body.command, (err, out) => res.send(out));
});

app.get("/tool", (req, res) => {
  // ruleid: js.shell-command-from-request
  res.send(execSync(req.query.cmd).toString());
});

app.get("/log", (req, res) => {
  const line = ["git", "log", req.query.ref].join(" ");
  // ruleid: js.shell-command-from-request
  child_process.exec(line, (err, out) => res.send(out));
});

app.get("/ls", (req, res) => {
  // ruleid: js.shell-command-from-request
  exec(util.format("ls -l %s", req.params.dir), (err, out) => res.send(out));
});

app.get("/spawn", (req, res) => {
  // ruleid: js.shell-command-from-request
  spawn(req.headers["x-command"], { shell: true }).stdout.pipe(res);
});
