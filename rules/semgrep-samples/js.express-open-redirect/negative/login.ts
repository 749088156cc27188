import express from "express";

const router = express.Router();
const DESTINATIONS: Record<string, string> = { home: "/", account: "/account" };

router.get("/login/done", (req, res) => {
  const key = String(req.query.next);
  // ok: js.express-open-redirect
  res.redirect(DESTINATIONS[key] ?? "/");
});

router.get("/orders", (req, res) => {
  // ok: js.express-open-redirect
  res.redirect("/orders/" + encodeURIComponent(String(req.query.id)));
});

router.get("/home", (_req, res) => {
  // ok: js.express-open-redirect
  res.redirect(301, "/");
});

export default router;
