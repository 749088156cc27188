#!/bin/sh
set -eu
# ruleid: text.tls-verification-disabled
export NODE_TLS_REJECT_UNAUTHORIZED=0
exec node dist/server.js
