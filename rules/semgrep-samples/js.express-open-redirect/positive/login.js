const express = require("express");

const router = express.Router();

router.get("/login/done", (req, res) => {
  // ruleid: js.express-open-redirect
  res.redirect(req.query.next);
});

router.get("/out", function (req, res) {
  const target = req.params.url || req.get("referer");
  // ruleid: js.express-open-redirect
  res.redirect(302, target);
});

router.post("/go", (req, res) => {
  // ruleid: js.express-open-redirect
  res.location("/" + req.body.path).sendStatus(303);
});

module.exports = router;
