#!/bin/bash
# LabHub's one command: installs, upgrades (re-run it) or uninstalls LabHub on a lab machine.
# Run as root from an unpacked release (labhub-<version>/installer/install.sh) or from a checkout.
#
#   install.sh [--admin NAME]... [--port N] [--with-docker] [--tls self-signed [--hostname NAME]...]
#              [--tls-cert FILE --tls-key FILE] [--from DIR|TARBALL] [--dry-run]
#   install.sh --uninstall [--purge] [--dry-run]
#
# Install: checks the system (Debian 12, Ubuntu 22.04/24.04, root, package mirror), installs the
# packages (jupyterhub, notebook, ipykernel, restic; docker.io with --with-docker), puts LabHub in
# /opt/labhub (with its own Node), writes /etc/labhub/config.json unless it exists, makes the data
# and log dirs, the labhub-admin group and the first admin, installs and starts labhub-proxy and
# labhub (systemd units, or LabHub's own supervision where systemd is not PID 1), waits until the
# hub answers and prints its address. Re-running it upgrades: config and state are kept, the state
# is migrated by the new hub when it starts, the hub is restarted (the proxy only when its code or
# config changed) and students' servers keep running.
# Uninstall: stops the services and students' servers, removes the program; keeps homes, state,
# config, logs and backups unless --purge (which removes all of them except the homes).
#
# Exit codes: 0 done; 1 a step failed; 2 bad usage or not root; 3 unsupported system;
# 4 package mirror unreachable or a package missing there; 5 no usable LabHub build to install.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
# shellcheck source=lib/os.sh
. "$HERE/lib/os.sh"
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

usage() { sed -n '2,21p' "$HERE/install.sh" | sed 's/^# \{0,1\}//'; }

admins=() hostnames=()
port='' with_docker=0 tls_mode='' tls_cert='' tls_key='' from='' dry_run=0 uninstall=0 purge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --admin) admins+=("${2:?--admin needs a user name}"); shift ;;
    --port) port=${2:?--port needs a number}; shift ;;
    --with-docker) with_docker=1 ;;
    --tls) tls_mode=${2:?--tls needs "self-signed"}; shift ;;
    --tls-cert) tls_cert=${2:?--tls-cert needs a file}; shift ;;
    --tls-key) tls_key=${2:?--tls-key needs a file}; shift ;;
    --hostname) hostnames+=("${2:?--hostname needs a name}"); shift ;;
    --from) from=${2:?--from needs a directory or tarball}; shift ;;
    --dry-run) dry_run=1 ;;
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die 2 "unknown option \"$1\"" ;;
  esac
  shift
done

# ---- checks that change nothing; every failure stops here
[ "$(id -u)" -eq 0 ] || die 2 "run this as root (e.g. sudo $0 $*): it installs system packages and services"
# run by the control app through pkexec without --admin: the person who clicked "Install" becomes the first admin
if [ "${#admins[@]}" = 0 ] && [ "$uninstall" = 0 ] && [[ "${PKEXEC_UID:-}" =~ ^[0-9]+$ ]] && [ "$PKEXEC_UID" -ge 1000 ] && [ "$PKEXEC_UID" -lt 60000 ]; then
  pkexec_user=$(id -nu "$PKEXEC_UID" 2>/dev/null) || pkexec_user=''
  [ -z "$pkexec_user" ] || admins+=("$pkexec_user")
fi
work=$(mktemp -d /tmp/labhub-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
for a in "${admins[@]}"; do valid_name "$a" || die 2 "--admin \"$a\" is not a valid Linux user name"; done
[ -z "$port" ] || [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]] || die 2 "--port: expected a port number, got \"$port\""
[ "$purge" = 0 ] || [ "$uninstall" = 1 ] || die 2 "--purge goes with --uninstall"
if [ -n "$tls_mode" ] && [ "$tls_mode" != self-signed ]; then die 2 "--tls: only \"self-signed\" (or give --tls-cert and --tls-key)"; fi
if [ -n "$tls_cert$tls_key" ]; then
  [ -n "$tls_cert" ] && [ -n "$tls_key" ] || die 2 "--tls-cert and --tls-key go together"
  [ -z "$tls_mode" ] || die 2 "--tls self-signed or --tls-cert/--tls-key, not both"
  [ -r "$tls_cert" ] && [ -r "$tls_key" ] || die 2 "cannot read $tls_cert or $tls_key"
  tls_cert=$(readlink -f "$tls_cert") tls_key=$(readlink -f "$tls_key")
  tls_mode=files
fi
[ "${#hostnames[@]}" = 0 ] || [ "$tls_mode" = self-signed ] || die 2 "--hostname goes with --tls self-signed"

if [ "$uninstall" = 1 ]; then
  # shellcheck source=lib/uninstall.sh
  . "$HERE/lib/uninstall.sh"
  run_uninstall
  exit 0
fi

os=$(labhub_os_check "${LABHUB_OS_RELEASE:-/etc/os-release}") || die 3 "$os"
case "$(uname -m)" in x86_64|aarch64) ;; *) die 3 "$(uname -m) machines are not supported (x86_64 and aarch64 are)" ;; esac

# shellcheck source=lib/source.sh
. "$HERE/lib/source.sh"
find_source # sets src_kind (release|tarball|checkout), src (a path), and checks it

init=supervise
if [ -d /run/systemd/system ]; then init=systemd; fi

previous=''
[ -f "$PREFIX/RELEASE" ] && previous=$(release_field "$PREFIX/RELEASE" version)

packages=(jupyterhub python3-notebook python3-ipykernel restic util-linux procps passwd tar gzip ca-certificates)
[ "$src_kind" = checkout ] && packages+=(g++ make python3 libpam0g-dev)
[ "$with_docker" = 1 ] && packages+=(docker.io)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  check_mirror "${missing[@]}" # dies (code 4) when the mirror cannot be reached or lacks a package
fi

config_exists=0
[ -f "$CONFIG" ] && config_exists=1
# the new LabHub must accept the config and the state that are here (checked with its own code)
if [ "$src_kind" != checkout ]; then check_config_and_state; fi
if [ -n "$tls_mode" ] && [ "$src_kind" != checkout ] && ! "$src/node/bin/node" "$src/dist/hub/main.js" --help | grep -q '^  tls '; then
  die 5 "this LabHub build has no \"labhub tls\" command, so --tls/--tls-cert cannot be used with it"
fi

# ---- the plan
steps=()
[ "${#missing[@]}" -gt 0 ] && steps+=("packages|install ${missing[*]}")
if [ "$src_kind" = checkout ]; then steps+=("build|build LabHub from the checkout $src (npm ci, npm run build) with Node $(node --version 2>/dev/null)"); fi
steps+=("program|put LabHub $(src_version) in $PREFIX${previous:+ (replacing $previous; the old copy is kept until the hub answers)}")
if [ "$config_exists" = 1 ]; then
  steps+=("config|keep $CONFIG${admins[*]:+; add ${admins[*]} to the $ADMIN_GROUP group}${port:+; set port $port}")
else
  steps+=("config|write $CONFIG (port ${port:-8000}, data $DATA_DEFAULT, logs $LOG_DEFAULT, admins: group $ADMIN_GROUP${admins[*]:+ = ${admins[*]}})")
fi
[ -n "$tls_mode" ] && steps+=("tls|HTTPS: $( [ "$tls_mode" = files ] && echo "copy $tls_cert and its key to $ETC/tls" || echo "a local CA and certificate in $ETC/tls (labhub tls init)")")
if [ "$init" = systemd ]; then
  steps+=("services|install labhub-proxy.service and labhub.service in $UNIT_DIR, enable and (re)start them")
else
  steps+=("services|systemd is not PID 1 here: start the proxy and hub under LabHub's own supervision ($PREFIX/bin/labhub-supervise)")
fi
steps+=("wait|wait until the hub answers and print its address")

say "LabHub installer: $(src_version) from $src_kind $src on ${os#ok }, services by $init"
[ -n "$previous" ] && say "an install of LabHub $previous is here: this run upgrades it (config and state are kept)"
if [ "$dry_run" = 1 ]; then
  say "dry run: this is the plan; nothing was changed"
  i=0
  for s in "${steps[@]}"; do i=$((i + 1)); echo "  $i. ${s#*|}"; done
  exit 0
fi

# ---- the steps
started=$(date +%s)
total=${#steps[@]}
# shellcheck source=lib/steps.sh
. "$HERE/lib/steps.sh"
i=0
for s in "${steps[@]}"; do
  i=$((i + 1))
  step "$i" "$total" "${s#*|}"
  "step_${s%%|*}"
done
say "done in $(( $(date +%s) - started )) s"
