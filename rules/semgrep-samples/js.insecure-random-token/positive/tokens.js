function newSession(user) {
  // ruleid: js.insecure-random-token
  const sessionToken = Math.random().toString(36).slice(2);
  // ruleid: js.insecure-random-token
  const requestId = Math.floor(Math.random() * 1e9);
  // ruleid: js.insecure-random-token
  user.resetToken = String(Math.random()).substring(2);
  return {
    // ruleid: js.insecure-random-token
    csrf: Math.random(),
    sessionToken,
    requestId,
  };
}

function generateApiKey() {
  // ruleid: js.insecure-random-token
  return "key_" + Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
}

module.exports = { newSession, generateApiKey };

// A name that merely ends like a quantity word is still a token.
// ruleid: js.insecure-random-token
const authAccount = Math.random().toString(36);
module.exports.authAccount = authAccount;
