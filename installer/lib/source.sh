# Where the LabHub being installed comes from, and whether the package mirror can be reached.
# Nothing here changes the system (a tarball is unpacked and apt's lists are fetched into $work).

# find_source: sets src_kind and src. Order: --from; the release this script is part of
# (../RELEASE); a release tarball beside it (the control app ships installer/ with one);
# the checkout this script is part of.
find_source() {
  local candidate=${from:-}
  if [ -z "$candidate" ]; then
    if [ -f "$HERE/../RELEASE" ]; then candidate=$HERE/..
    elif [ -f "$HERE/labhub-release.tar.gz" ]; then candidate=$HERE/labhub-release.tar.gz
    elif [ -f "$HERE/../package.json" ] && [ -f "$HERE/../hub/cli.ts" ]; then candidate=$HERE/..
    else die 5 "no LabHub to install next to $HERE: run the install.sh of an unpacked release (labhub-<version>/installer/install.sh) or of a checkout, or give --from"
    fi
  fi
  [ -e "$candidate" ] || die 5 "--from $candidate: no such file or directory"
  candidate=$(readlink -f "$candidate")
  if [ -f "$candidate" ]; then
    mkdir -p "$work/release"
    tar -xzf "$candidate" -C "$work/release" || die 5 "cannot unpack $candidate"
    src=$(dirname "$(find "$work/release" -maxdepth 2 -name RELEASE | head -n 1)")
    [ -f "$src/RELEASE" ] || die 5 "$candidate is not a LabHub release tarball (no RELEASE file)"
    src_kind=tarball
  elif [ -f "$candidate/RELEASE" ]; then
    src=$candidate src_kind=release
  elif [ -f "$candidate/package.json" ] && [ -f "$candidate/hub/cli.ts" ]; then
    src=$candidate src_kind=checkout
  else
    die 5 "$candidate is neither a LabHub release nor a checkout"
  fi

  if [ "$src_kind" = checkout ]; then
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$major" -lt 20 ] || ! command -v npm >/dev/null; then
      die 5 "installing from a checkout builds LabHub, which needs Node.js >= 20 and npm (found: $(node --version 2>/dev/null || echo none); Debian 12's own nodejs is 18). Use a release tarball instead: it carries its own Node (installer/make-release.sh makes one)."
    fi
    return 0
  fi
  local arch
  arch=$(release_field "$src/RELEASE" arch)
  [ "$arch" = "$(uname -m)" ] || die 3 "this release is built for $arch machines, this one is $(uname -m)"
  [ -f "$src/dist/hub/main.js" ] && [ -d "$src/node_modules" ] || die 5 "$src is an incomplete release (dist/ or node_modules/ missing)"
  "$src/node/bin/node" --version >/dev/null 2>&1 || die 5 "the release's own Node ($src/node/bin/node) does not run on this system"
}

src_version() {
  if [ "$src_kind" = checkout ]; then
    echo "$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$src/package.json" | head -n 1) (checkout)"
  else
    release_field "$src/RELEASE" version
  fi
}

# check_mirror PACKAGE...: fetches apt's lists into $work (not /var/lib/apt) and checks that
# every PACKAGE is there; dies with code 4 otherwise. The lists are reused by step_packages.
check_mirror() {
  apt_lists=$work/apt-lists
  mkdir -p "$apt_lists/partial"
  apt_private=(-o "Dir::State::Lists=$apt_lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
  local log=$work/apt-update.log
  if ! timeout 180 apt-get update -q --error-on=any "${apt_private[@]}" \
       -o Acquire::Retries=0 -o Acquire::http::Timeout=20 -o Acquire::https::Timeout=20 >"$log" 2>&1; then
    local why
    # "Err:1 http://… InRelease" and, on the next line, why
    why=$(grep -m 1 -A 1 '^Err:' "$log" | sed 's/^Err:[0-9]* //; s/^ *//' | paste -sd ' ' -)
    [ -n "$why" ] || why=$(grep -m 1 '^E:' "$log" || echo 'apt-get update failed')
    die 4 "cannot reach the package mirror (${why}), which is needed to install ${*}. Check the network and /etc/apt/sources.list*. Nothing was changed."
  fi
  local p candidate absent=()
  for p in "$@"; do
    candidate=$(apt-cache "${apt_private[@]}" policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: //p')
    if [ -z "$candidate" ] || [ "$candidate" = '(none)' ]; then absent+=("$p"); fi
  done
  if [ "${#absent[@]}" -gt 0 ]; then
    die 4 "the package mirror has no ${absent[*]} (on Ubuntu, enable the \"universe\" component). Nothing was changed."
  fi
}

# check_config_and_state: the existing config must be valid for the new version, and the state
# must not be from a newer one (the new hub migrates older state when it opens it).
check_config_and_state() {
  local out
  out=$("$src/node/bin/node" --input-type=module -e "
    import { existsSync, readFileSync } from 'node:fs';
    const { loadConfig, ConfigError } = await import('$src/dist/hub/config.js');
    const { STATE_SCHEMA_VERSION } = await import('$src/dist/hub/store/state.js');
    let c;
    try { c = loadConfig(existsSync('$CONFIG') ? { config: '$CONFIG' } : {}); }
    catch (e) { if (e instanceof ConfigError) { console.log('config ' + e.message); process.exit(1); } throw e; }
    const file = existsSync('$CONFIG') ? c.dataDir + '/state.json' : '$DATA_DEFAULT/state.json';
    if (existsSync(file)) {
      let v;
      try { v = JSON.parse(readFileSync(file, 'utf8')).schemaVersion; } catch (e) { console.log('state ' + file + ' cannot be read: ' + e.message); process.exit(1); }
      if (v > STATE_SCHEMA_VERSION) { console.log('state ' + file + ' is from a newer LabHub (schema ' + v + ', this one knows ' + STATE_SCHEMA_VERSION + '): install that version or newer'); process.exit(1); }
    }
  " 2>&1) || die 5 "cannot install $(src_version) over what is here: $out. Nothing was changed."
}
