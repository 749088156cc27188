const https = require("https");
const axios = require("axios");

// ruleid: js.tls-verification-disabled
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

// ruleid: js.tls-verification-disabled
const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });

function fetchStatus(url) {
  return axios.get(url, { httpsAgent: agent });
}

const options = { host: "internal.example" };
// ruleid: js.tls-verification-disabled
options.rejectUnauthorized = false;

module.exports = { fetchStatus, options };
