#!/bin/bash
# Makes a LabHub release: a tarball that installs on a lab machine without Node, npm or a compiler.
#   installer/make-release.sh [--out DIR] [--skip-build]   → DIR/labhub-<version>-linux-<arch>.tar.gz (default DIR: release/)
#   installer/make-release.sh --stage DIR [--skip-build]   → only the unpacked tree DIR/labhub-<version>/
#   installer/make-release.sh --for-app [--skip-build]     → installer/labhub-release.tar.gz, which the control
#                                                            app ships beside install.sh (electron-builder extraResources)
# It builds the checkout (npm ci when node_modules is missing or stale, npm run build; --skip-build
# uses dist/ as it is), keeps only the production dependencies (npm prune --omit=dev, so the native
# addons authenticate-pam and node-pty stay as built here) and copies this machine's Node binary
# into node/bin/node: LabHub always runs on the Node its native addons were built for, whatever
# Node the lab machine has (Debian 12's own is 18, too old). Build on the oldest system you
# install on (here Debian 12: its glibc suits Ubuntu 22.04 and 24.04 too).
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
out=$ROOT/release stage='' build=1 for_app=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift ;;
    --for-app) for_app=1 ;;
    --stage) stage=$2; shift ;;
    --skip-build) build=0 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-release.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
cd "$ROOT"
node_bin=$(readlink -f "$(command -v node)")
major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "make-release.sh: Node >= 20 is needed (found $("$node_bin" --version))" >&2; exit 1; }
if [ "$build" = 1 ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
  fi
  npm run build --silent
fi
[ -f dist/hub/main.js ] || { echo "make-release.sh: dist/ is missing: build first (npm run build)" >&2; exit 1; }

version=$(node -p 'require("./package.json").version')
arch=$(uname -m)
name=labhub-$version
tmp=''
if [ -z "$stage" ]; then tmp=$(mktemp -d); stage=$tmp; fi
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT
dest=$stage/$name
rm -rf "$dest"
mkdir -p "$dest/node/bin"
# the program (source maps stay behind), its resources and the installer
tar -cf - --exclude='*.map' dist resources installer package.json package-lock.json README.md | tar -xf - -C "$dest"
rm -f "$dest/installer/labhub-release.tar.gz"
# production dependencies as built here (no rebuild, no download)
tar -cf - node_modules | tar -xf - -C "$dest"
(cd "$dest" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --offline >/dev/null)
# node-pty's prebuilt binaries are for macOS and Windows (58 MB); Linux uses the one built here
rm -rf "$dest"/node_modules/node-pty/prebuilds/darwin-* "$dest"/node_modules/node-pty/prebuilds/win32-*
find "$dest/node_modules" -mindepth 1 -type d -empty -delete
cp "$node_bin" "$dest/node/bin/node"
for f in LICENSE README.md; do
  for d in "$(dirname "$node_bin")/../share/doc/nodejs" "$(dirname "$node_bin")/.."; do
    [ -f "$d/$f" ] && { cp "$d/$f" "$dest/node/$f"; break; }
  done
done
cat >"$dest/RELEASE" <<INFO
version=$version
arch=$arch
node=$("$node_bin" --version)
node_modules_abi=$("$node_bin" -p process.versions.modules)
built_on=$(. /etc/os-release && echo "$ID $VERSION_ID")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo +changes)
INFO
if [ -n "$tmp" ]; then
  mkdir -p "$out"
  tarball=$out/$name-linux-$arch.tar.gz
  [ "$for_app" = 0 ] || tarball=$ROOT/installer/labhub-release.tar.gz
  tar -C "$stage" -cf - "$name" | gzip -1 >"$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
  echo "$tarball"
else
  echo "$dest"
fi
