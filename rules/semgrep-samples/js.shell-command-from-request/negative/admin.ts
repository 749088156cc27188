import { exec, execFile, execFileSync, spawn } from "node:child_process";
import express from "express";

const app = express();

app.get("/log", (req, res) => {
  // ok: js.shell-command-from-request
  res.send(execFileSync("git", ["log", String(req.query.ref)]).toString());
});

app.get("/spawn", (req, res) => {
  // ok: js.shell-command-from-request
  spawn("git", ["show", String(req.query.ref)]).stdout.pipe(res);
});

app.get("/status", (_req, res) => {
  // ok: js.shell-command-from-request
  exec("git status --short", (_err, out) => res.send(out));
});

app.get("/file", (req, res) => {
  // ok: js.shell-command-from-request
  execFile("cat", [String(req.query.name)], (_err, out) => res.send(out));
});

export default app;
