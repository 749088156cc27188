import fs from "node:fs";
import path from "node:path";
import express from "express";

const app = express();
const UPLOADS = path.join(__dirname, "uploads");

app.get("/download", (req, res) => {
  const name = path.basename(String(req.query.name));
  // ok: js.path-traversal-fs
  fs.createReadStream(path.join(UPLOADS, name)).pipe(res);
});

app.get("/report", (_req, res) => {
  // ok: js.path-traversal-fs
  res.send(fs.readFileSync(path.join(UPLOADS, "report.txt"), "utf8"));
});

export default app;
