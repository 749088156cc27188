const express = require("express");
const { execSync } = require("child_process");

const app = express();

app.get("/deploy", (req, res) => {
  execSync(`git checkout ${req.query.branch}`);
  res.send("ok");
});

app.get("/login/done", (req, res) => {
  res.redirect(req.query.next);
});

module.exports = app;
