const { execFileSync } = require("child_process");
const crypto = require("crypto");

function checkout(branch) {
  execFileSync("git", ["checkout", "--", branch]);
}

function token() {
  return crypto.randomBytes(32).toString("hex");
}

function home(req, res) {
  res.redirect("/home");
}

module.exports = { checkout, token, home };
