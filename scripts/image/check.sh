#!/usr/bin/env bash
# The image, built and run by a real container engine: makes the stand-in Node
# base (base.sh), builds the Dockerfile with podman against it, and runs the
# checks of test/image/check.ts on the image with the DaemonSet's settings.
# Everything runs inside a private mount namespace; the containers and the built
# image are removed at the end, the base is kept for the next run.
#
# Where podman cannot run (no root, no runc, no /dev/fuse, …) it says why and
# skips; under CI=true that is a failure. Arguments go to the checker (e.g.
# --kubelet-host-side private, --manifests DIR). docs/image.md says more.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=localhost/juicefs-path-prober:image-check
LABEL=juicefs-path-prober.image-check=1

if [ "${1:-}" != --in-namespace ]; then
  cannot() {
    if [ "${CI:-}" = true ]; then
      echo "image: cannot run under CI: $*" >&2
      exit 1
    fi
    echo "image: skipped: $*"
    exit 0
  }
  [ "$(id -u)" = 0 ] || cannot "needs root (debootstrap, mounts, rootful podman)"
  for need in podman:podman runc:runc debootstrap:debootstrap slirp4netns:slirp4netns kubectl:kubernetes-client unshare:util-linux; do
    command -v "${need%%:*}" >/dev/null || cannot "needs ${need%%:*} (Debian package ${need#*:})"
  done
  [ -e /dev/fuse ] || cannot "needs /dev/fuse (the FUSE fixture mounts fuse.juicefs)"
  unshare --mount true 2>/dev/null || cannot "cannot make a mount namespace (unshare --mount)"
  [ -f dist/test/image/check.js ] || { echo "image: run npm run build first" >&2; exit 1; }

  # podman's configuration for this run only. runc: crun refuses a hybrid cgroup layout.
  # ulimits: podman's default nofile (1048576) is more than root may set here; measured, a
  # container's nofile can go up to the host's hard limit (20000) and its nproc to 32768.
  conf=$(mktemp /tmp/jfs-prober-containers.XXXXXX.conf)
  trap 'rm -f "$conf"' EXIT
  hard() { awk -v k="$1" 'index($0, k) == 1 { print $(NF - 1) }' /proc/self/limits; }
  atmost() { if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi; }
  nofile=$(atmost "$(hard 'Max open files')" 1048576)
  nproc=$(atmost "$(hard 'Max processes')" 32768)
  cat >"$conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
EOF
  export CONTAINERS_CONF=$conf
  podman info >/dev/null 2>&1 || cannot "podman cannot run here: $(podman info 2>&1 | tail -n1)"
  export JFS_TEST_HOST_MNT_NS
  JFS_TEST_HOST_MNT_NS=$(readlink /proc/self/ns/mnt)
  unshare --mount --propagation private -- bash "$0" --in-namespace "$@"
  exit
fi
shift

cleanup() {
  ids=$(podman ps --all --quiet --filter "label=$LABEL")
  [ -z "$ids" ] || podman rm --force --time 0 $ids >/dev/null 2>&1 || true
  podman rmi --force "$IMAGE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

start=$SECONDS
BASE=$(bash scripts/image/base.sh)
echo "image: base $BASE ready in $((SECONDS - start)) s"

# Can runc start a container at all here? If not, say so instead of failing in the build.
if ! out=$(podman run --rm --pull=never --network=none --label "$LABEL" "$BASE" true 2>&1); then
  if [ "${CI:-}" = true ]; then echo "image: cannot run under CI: podman cannot start a container: $out" >&2; exit 1; fi
  echo "image: skipped: podman cannot start a container: $out"
  exit 0
fi

start=$SECONDS
log=$(mktemp /tmp/jfs-prober-build.XXXXXX.log)
# --pull=never: every FROM is the stand-in base; nothing comes from a registry but npm's packages.
if ! podman build --pull=never --network=host --layers=false --build-arg NODE_IMAGE="$BASE" -t "$IMAGE" -f Dockerfile . >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  rm -f "$log"
  echo "image: the build failed" >&2
  exit 1
fi
rm -f "$log"
echo "image: built $IMAGE in $((SECONDS - start)) s"

node dist/test/image/check.js --image "$IMAGE" --base "$BASE" "$@"
