#!/bin/sh
set -eu
export NODE_ENV=production
exec node /srv/web/server.js
