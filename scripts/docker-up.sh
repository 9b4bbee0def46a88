#!/usr/bin/env bash
# Makes sure a Docker daemon answers: installs Debian's docker.io if missing and, where no init
# system runs it (no systemd as PID 1, e.g. CI containers), starts dockerd in the background.
# Idempotent: a daemon that already answers is left alone. Used by the tests and by the Docker spawner's
# image build; on a lab machine with systemd, `systemctl enable --now docker` does this instead.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "docker-up.sh: run as root" >&2
  exit 2
fi
if ! command -v dockerd >/dev/null; then
  echo "docker-up.sh: installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi
if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ "$(ps -o comm= -p 1 2>/dev/null)" = systemd ]; then
  systemctl start docker
else
  log=/var/log/labhub-dockerd.log
  echo "docker-up.sh: starting dockerd in the background (log: $log)"
  setsid dockerd >"$log" 2>&1 </dev/null &
fi
for _ in $(seq 1 120); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "docker-up.sh: dockerd did not answer within 60 s; see /var/log/labhub-dockerd.log" >&2
exit 1
