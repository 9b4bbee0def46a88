#!/usr/bin/env bash
# Runs LabHub's whole test suite against the real parts (PAM users, jupyterhub-singleuser,
# Chromium). Installs what it needs first (idempotent), so it works on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# leftovers of an interrupted earlier run: test users are all named lhtest*
for u in $(getent passwd | cut -d: -f1 | grep '^lhtest' || true); do
  pkill -KILL -u "$u" 2>/dev/null || true
  userdel -r -f "$u" >/dev/null 2>&1 || true
done
npx vitest run "$@"
