# Which operating systems LabHub installs on. Sourced by install.sh and by its unit tests.
# labhub_os_check FILE: prints "ok <id> <version>" and returns 0 for a supported system, else prints
# a one-line reason and returns 1. FILE is an os-release(5) file (default /etc/os-release).

LABHUB_SUPPORTED_OS="Debian 12, Ubuntu 22.04, Ubuntu 24.04"

labhub_os_check() {
  local file=${1:-/etc/os-release} id='' version='' pretty='' line key value
  if [ ! -r "$file" ]; then
    echo "cannot read $file, so this system cannot be identified"
    return 1
  fi
  # os-release is shell-like KEY=value; read it without executing it
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    value=${value#\"}; value=${value%\"}; value=${value#\'}; value=${value%\'}
    case "$key" in
      ID) id=$value ;;
      VERSION_ID) version=$value ;;
      PRETTY_NAME) pretty=$value ;;
    esac
  done <"$file"
  case "$id:$version" in
    debian:12|ubuntu:22.04|ubuntu:24.04)
      echo "ok $id $version"
      return 0 ;;
  esac
  echo "${pretty:-${id:-unknown} ${version}} is not supported: LabHub installs on $LABHUB_SUPPORTED_OS"
  return 1
}
