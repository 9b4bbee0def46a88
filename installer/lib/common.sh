# Shared by install.sh and its parts: where things go, and how the installer talks.

PREFIX=/opt/labhub
ETC=/etc/labhub
CONFIG=$ETC/config.json
DATA_DEFAULT=/var/lib/labhub
LOG_DEFAULT=/var/log/labhub
BACKUPS_DEFAULT=/var/backups/labhub
RUN_DIR=/run/labhub
UNIT_DIR=/etc/systemd/system
ADMIN_GROUP=labhub-admin

if [ -t 1 ]; then c_step=$'\033[1;32m' c_warn=$'\033[33m' c_err=$'\033[1;31m' c_off=$'\033[0m'
else c_step='' c_warn='' c_err='' c_off=''; fi

say() { echo "$*"; }
# "==> [2/6] text": the control app reads these lines to show the installer's progress
step() { echo "${c_step}==>${c_off} [$1/$2] $3"; }
warn() { echo "${c_warn}warning:${c_off} $*" >&2; }
die() {
  local code=$1
  shift
  echo "${c_err}labhub install: $*${c_off}" >&2
  exit "$code"
}

valid_name() { [[ "$1" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] && [ "$1" != root ]; }

# release_field FILE KEY: a value of a RELEASE file (key=value lines)
release_field() { sed -n "s/^$2=//p" "$1" | head -n 1; }

# config_values KEY...: the values of the installed config (defaults filled in), one line each
# (empty when unknown), read with the installed LabHub in one Node start
config_values() {
  local node=$PREFIX/node/bin/node
  [ -x "$node" ] && [ -f "$CONFIG" ] || { printf '%s\n' "$@" | sed 's/.*//'; return 0; }
  "$node" --input-type=module -e "
    const { loadConfig } = await import('$PREFIX/dist/hub/config.js');
    const c = loadConfig({ config: '$CONFIG' });
    for (const key of process.argv.slice(1)) {
      const v = key.split('.').reduce((o, k) => (o == null ? o : o[k]), c);
      console.log(v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
  " "$@" 2>/dev/null || printf '%s\n' "$@" | sed 's/.*//'
}
