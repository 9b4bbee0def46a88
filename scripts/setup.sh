#!/usr/bin/env bash
# Installs what LabHub needs on a Debian/Ubuntu machine and builds it from this checkout.
#   bash scripts/setup.sh          runtime: the single-user server (Debian jupyterhub, notebook, ipykernel), PAM headers
#   bash scripts/setup.sh --test   also what the test suite needs (Chromium for the browser tests)
# Idempotent: packages already installed are left alone; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs system packages; LabHub itself runs as root to start students' servers as them)" >&2
  exit 2
fi

# g++/make/python3 build the native addons (authenticate-pam, node-pty); tar/gzip archive removed homes;
# restic makes the home-directory backups
packages=(jupyterhub python3-ipykernel python3-notebook libpam0g-dev util-linux procps passwd tar gzip g++ make python3 restic)
# mmdebstrap builds the Docker spawner's single-user image in the tests (docker.io: scripts/docker-up.sh)
# openssl makes test certificates, nginx fronts the HTTPS test, libnss3-tools (certutil) lets Chromium trust the test CA
[ "$want_tests" = 1 ] && packages+=(chromium mmdebstrap openssl nginx libnss3-tools)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup.sh: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # the Electron binary cannot be downloaded here and the hub never needs it (see main/README.md)
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
npm run build --silent
echo "setup.sh: LabHub is built; run it with: npx labhub serve"
