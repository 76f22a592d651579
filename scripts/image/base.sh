#!/usr/bin/env bash
# Makes a stand-in for the Dockerfile's Node base image where no registry serves
# one: a minimal Debian of the base's release (debootstrap --variant=minbase, from
# the mirror apt uses) plus this machine's own node and npm, laid out as the
# official node image lays them out, imported into podman. npm inside the build
# gets the host's registry and CA bundle (outbound TLS may be re-signed by a
# local CA that only the host's bundle holds).
#
# usage: base.sh            prints the image reference on stdout (logs on stderr)
# The image is tagged by what went into it and reused while those stay the same;
# JFS_IMAGE_REBUILD_BASE=1 makes it anew. Run as root inside a private mount
# namespace (debootstrap mounts /proc and /sys in the target).
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf 'image: %s\n' "$*" >&2; }

# The release is the one the Dockerfile's default base names (node:24-bookworm-slim → bookworm).
default_base=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile | head -n1)
suite=$(sed -E -n 's/^node:[0-9]+-([a-z]+)(-slim)?$/\1/p' <<<"$default_base")
[ -n "$suite" ] || { log "cannot tell the Debian release from the Dockerfile's NODE_IMAGE default '$default_base'"; exit 1; }

# The Debian mirror apt uses: deb822 .sources files first, then one-line lists.
mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    awk -v suite="$suite" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uri != "" && !done) { print uri; done = 1 } types = suites = uri = "" }
      /^[ \t]*$/ { flush(); next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); split($0, u, /[ \t]+/); uri = u[1] }
      END { flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    awk -v suite="$suite" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) print $i }' "$f"
  done
}
MIRROR=${JFS_IMAGE_MIRROR:-$(mirror | sed -n 1p)}
[ -n "$MIRROR" ] || { log "no Debian mirror for $suite in apt's sources (set JFS_IMAGE_MIRROR)"; exit 1; }

NODE_BIN=$(readlink -f "$(command -v node)")
NPM_DIR=$(readlink -f "$(npm root -g)/npm")
NODE_VERSION=$("$NODE_BIN" --version)
NPM_VERSION=$(node -p "require('$NPM_DIR/package.json').version")
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -f "$CA_BUNDLE" ] || { log "no CA bundle at $CA_BUNDLE"; exit 1; }

# What npm on the host reaches the registry with; the build's npm gets the same.
npmrc=$(
  for key in registry cafile https-proxy proxy noproxy strict-ssl; do
    v=$(npm config get "$key" 2>/dev/null || true)
    case "$v" in '' | null | undefined) continue ;; esac
    printf '%s=%s\n' "$key" "$v"
  done
)
# NODE_EXTRA_CA_CERTS does not reach the build's npm: name the bundle as its cafile.
grep -q '^cafile=' <<<"$npmrc" || npmrc+=$'\n'"cafile=$CA_BUNDLE"
host_cafile=$(sed -n 's/^cafile=//p' <<<"$npmrc")

tag=$(
  {
    echo "$suite $MIRROR $NODE_VERSION $NPM_VERSION"
    echo "$npmrc"
    sha256sum "$CA_BUNDLE" "$host_cafile" | cut -d' ' -f1
    sha256sum "$0" | cut -d' ' -f1
  } | sha256sum | cut -c1-12
)
REF="localhost/juicefs-path-prober-base:node${NODE_VERSION#v}-${suite}-${tag}"

if [ "${JFS_IMAGE_REBUILD_BASE:-}" != 1 ] && podman image exists "$REF"; then
  log "base $REF is cached"
  echo "$REF"
  exit 0
fi

work=$(mktemp -d /var/tmp/jfs-prober-base.XXXXXX)
cleanup() {
  # debootstrap leaves /proc and /sys mounted in the target when it fails.
  for m in $(awk -v r="$work/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
root=$work/rootfs

log "debootstrap --variant=minbase $suite from $MIRROR"
start=$SECONDS
debootstrap --variant=minbase "$suite" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
log "debootstrap took $((SECONDS - start)) s"

# The official image's layout: node in /usr/local/bin, npm under /usr/local/lib/node_modules
# with npm/npx links, a node user and group 1000 with a home.
install -D -m 0755 "$NODE_BIN" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
install -D -m 0644 "$CA_BUNDLE" "$root$CA_BUNDLE"
[ "$host_cafile" = "$CA_BUNDLE" ] || install -D -m 0644 "$host_cafile" "$root$host_cafile"
# npm's global config for a node in /usr/local/bin.
printf '%s\n' "$npmrc" | sed '/^$/d' >"$root/usr/local/etc/npmrc"
# As the official slim image: no package lists or downloaded packages.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
chroot "$root" node --version >/dev/null

log "importing $REF"
tar --numeric-owner --xattrs -C "$root" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
  --change 'CMD ["node"]' \
  --message "stand-in for $default_base: debootstrap $suite + node $NODE_VERSION, npm $NPM_VERSION" \
  --quiet - "$REF" >/dev/null
echo "$REF"
