#!/usr/bin/env bash
# Calldock Asterisk container entrypoint (asterisk/Dockerfile): render the config with the same
# templates and logic as the chroot set-up (provision.sh render), then run Asterisk as PID 1's
# child in the foreground (compose runs it with init: true).
#   CALLDOCK_INSTANCE (default asterisk), CALLDOCK_ROLE (main|carrier, default main), plus the
#   ports/credentials provision.sh reads (ASTERISK_HTTP_PORT, ARI_USER, ARI_PASSWORD, ...).
set -euo pipefail
export CALLDOCK_ASTERISK_ROOT=/   # Asterisk is installed in the image itself: no chroot
name=${CALLDOCK_INSTANCE:-asterisk}
role=${CALLDOCK_ROLE:-main}
"$(dirname "${BASH_SOURCE[0]}")/provision.sh" render "$name" "$role"
exec /usr/sbin/asterisk -f -U root -C "/calldock/$name/etc/asterisk.conf"
