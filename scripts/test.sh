#!/usr/bin/env bash
# Runs the test suite. As root, inside a private mount namespace: every mount a
# test makes dies with the namespace, so a crashed run leaves nothing behind.
# Without root the mount tests skip (or fail under CI=true) and the rest run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  export JFS_TEST_HOST_MNT_NS
  JFS_TEST_HOST_MNT_NS=$(readlink /proc/self/ns/mnt)
  # fusectl lets tests abort a hung FUSE connection; mount it inside the namespace.
  exec unshare --mount --propagation private -- bash -c \
    'mountpoint -q /sys/fs/fuse/connections || mount -t fusectl none /sys/fs/fuse/connections 2>/dev/null || true; exec npx ava "$@"' ava "$@"
fi
exec npx ava "$@"
