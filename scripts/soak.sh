#!/usr/bin/env bash
# Runs the soak (scripts/soak.ts) as root inside a private mount namespace, so
# none of its hundreds of mounts outlive it. Arguments go to the soak.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "soak: needs root (mounts)" >&2; exit 2; fi
export JFS_TEST_HOST_MNT_NS
JFS_TEST_HOST_MNT_NS=$(readlink /proc/self/ns/mnt)
exec unshare --mount --propagation private -- node dist/scripts/soak.js "$@"
