const fs = require("fs");
const https = require("https");

// ok: js.tls-verification-disabled
const agent = new https.Agent({ ca: fs.readFileSync("internal-ca.pem"), rejectUnauthorized: true });
// ok: js.tls-verification-disabled
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "1";

module.exports = { agent };
