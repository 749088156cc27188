const fs = require("fs");
const path = require("path");
const express = require("express");

const app = express();

app.get("/download", (req, res) => {
  const file = path.join(__dirname, "uploads", req.query.name);
  // ruleid: js.path-traversal-fs
  fs.createReadStream(file).pipe(res);
});

app.delete("/files/:name", async (req, res) => {
  // ruleid: js.path-traversal-fs
  await fs.promises.unlink(`uploads/${req.params.name}`);
  res.sendStatus(204);
});

app.post("/notes", (req, res) => {
  // ruleid: js.path-traversal-fs
  fs.writeFileSync(path.resolve("notes", req.body.title), req.body.text);
  res.sendStatus(201);
});

module.exports = app;
