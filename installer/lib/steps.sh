# The steps of an install or upgrade, in the order install.sh runs them (step_<name>).
# They use the variables install.sh set: src, src_kind, missing, admins, port, tls_*, init, work.

step_packages() {
  export DEBIAN_FRONTEND=noninteractive
  # the lists check_mirror fetched are apt's fresh lists: use them instead of fetching them again
  find "$apt_lists" -maxdepth 1 -type f ! -name lock -exec cp -p {} /var/lib/apt/lists/ \;
  apt-get install -y -q --no-install-recommends "${missing[@]}" 2>&1 | grep -E '^(Setting up|E:|W:)' || true
  local p
  for p in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || die 1 "installing $p failed (see apt's messages above)"
  done
}

step_build() {
  bash "$src/installer/make-release.sh" --stage "$work/stage" || die 1 "building LabHub from $src failed"
  src=$(dirname "$(find "$work/stage" -maxdepth 2 -name RELEASE | head -n 1)")
  src_kind=release
}

# The labhub command of the install: the release's own Node (the one its native modules were
# built for), with the V8 flags of dist/hub/main.js's shebang for everything but the proxy.
write_wrapper() {
  local dir=$1 flags
  flags=$(sed -n '1s|^#!/usr/bin/env -S node *||p' "$dir/dist/hub/main.js")
  mkdir -p "$dir/bin"
  cat >"$dir/bin/labhub" <<WRAPPER
#!/bin/sh
# The labhub command of the LabHub installed in $PREFIX (written by installer/install.sh).
: "\${LABHUB_CONFIG:=$CONFIG}"
export LABHUB_CONFIG
case "\${1:-}" in
  proxy) exec $PREFIX/node/bin/node $PREFIX/dist/hub/main.js "\$@" ;;
esac
exec $PREFIX/node/bin/node $flags $PREFIX/dist/hub/main.js "\$@"
WRAPPER
  chmod 0755 "$dir/bin/labhub"
  ln -sfn ../installer/supervise.sh "$dir/bin/labhub-supervise"
}

step_program() {
  rm -rf "$PREFIX.new" "$PREFIX.old"
  mkdir -p "$PREFIX.new"
  cp -a "$src/." "$PREFIX.new/"
  write_wrapper "$PREFIX.new"
  chmod -R go-w "$PREFIX.new"
  # the running hub and proxy keep what they have loaded; they are restarted in step_services
  if [ -d "$PREFIX" ]; then mv "$PREFIX" "$PREFIX.old"; fi
  mv "$PREFIX.new" "$PREFIX"
  ln -sfn "$PREFIX/bin/labhub" /usr/local/bin/labhub
}

# json_edit FILE JS: runs JS on the parsed file as `c` and writes it back (2-space JSON)
json_edit() {
  "$PREFIX/node/bin/node" -e '
    const fs = require("fs");
    const file = process.argv[1];
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    new Function("c", process.argv[2])(c);
    fs.writeFileSync(file + ".tmp", JSON.stringify(c, null, 2) + "\n", { mode: 0o640 });
    fs.renameSync(file + ".tmp", file);
  ' "$1" "$2"
}

step_config() {
  install -d -m 0755 "$ETC"
  getent group "$ADMIN_GROUP" >/dev/null || groupadd --system "$ADMIN_GROUP"
  local a
  for a in "${admins[@]}"; do
    if ! id -u "$a" >/dev/null 2>&1; then
      useradd --create-home --shell /bin/bash "$a"
      say "created the user $a: give them a password with: passwd $a"
    fi
    usermod -a -G "$ADMIN_GROUP" "$a"
  done
  if [ ! -f "$CONFIG" ]; then
    cat >"$CONFIG.tmp" <<JSON
{
  "ip": "0.0.0.0",
  "port": ${port:-8000},
  "dataDir": "$DATA_DEFAULT",
  "logDir": "$LOG_DEFAULT",
  "auth": {
    "adminGroups": ["$ADMIN_GROUP"]
  }
}
JSON
    mv "$CONFIG.tmp" "$CONFIG"
  else
    [ -z "$port" ] || json_edit "$CONFIG" "c.port = $port;"
    if [ "${#admins[@]}" -gt 0 ]; then
      json_edit "$CONFIG" "c.auth ??= {}; c.auth.adminGroups ??= []; if (!c.auth.adminGroups.includes('$ADMIN_GROUP')) c.auth.adminGroups.push('$ADMIN_GROUP');"
    fi
  fi
  # admins run the control app as themselves: it reads the config to find the hub
  chown "root:$ADMIN_GROUP" "$CONFIG"
  chmod 0640 "$CONFIG"
  { read -r data_dir; read -r log_dir; read -r public_port; read -r tls_in_use; } < <(config_values dataDir logDir port proxy.tls.cert)
  [ -n "$data_dir" ] && [ -n "$log_dir" ] || die 1 "cannot read $CONFIG with the new LabHub"
  # (the hub sets the data dir's final mode and group itself)
  [ -d "$data_dir" ] || install -d -m 0700 "$data_dir"
  install -d -m 0750 -g "$ADMIN_GROUP" "$log_dir"
  install -d -m 0700 "$BACKUPS_DEFAULT"
  if [ -f "$data_dir/state.json" ]; then
    # the new hub migrates the state when it opens it; this is the copy from before
    cp -p "$data_dir/state.json" "$data_dir/state.json.pre-upgrade"
    say "state kept: $data_dir/state.json (copy from before this upgrade: state.json.pre-upgrade)"
  fi
}

step_tls() {
  local dir=$ETC/tls cert key ca=''
  install -d -m 0700 "$dir"
  if [ "$tls_mode" = files ]; then
    install -m 0644 "$tls_cert" "$dir/server.crt"
    install -m 0600 "$tls_key" "$dir/server.key"
    cert=$dir/server.crt key=$dir/server.key
  else
    local args=(tls init --dir "$dir") h
    for h in "${hostnames[@]}"; do args+=(--hostname "$h"); done
    "$PREFIX/bin/labhub" "${args[@]}" || die 1 "labhub tls init failed"
    cert=$dir/server.crt key=$dir/server.key
    [ -f "$dir/ca.crt" ] && ca=$dir/ca.crt
    [ -f "$cert" ] && [ -f "$key" ] || die 1 "labhub tls init did not leave $cert and $key"
  fi
  json_edit "$CONFIG" "c.proxy ??= {}; c.proxy.tls = { ...(c.proxy.tls ?? {}), cert: '$cert', key: '$key'$( [ -n "$ca" ] && echo ", caCert: '$ca'" ) };"
  tls_in_use=$cert
}

# The proxy is restarted only when what it runs changed: its code (import closure), Node, or the
# parts of the config it reads. A restart drops open websockets (students' kernels reconnect).
proxy_fingerprint() {
  "$PREFIX/node/bin/node" "$PREFIX/installer/lib/fingerprint.mjs" "$PREFIX" "$CONFIG"
}

step_services() {
  local fp recorded='' restart_proxy=1
  fp=$(proxy_fingerprint)
  [ -f "$data_dir/proxy.fingerprint" ] && recorded=$(cat "$data_dir/proxy.fingerprint")
  if [ "$init" = systemd ]; then
    install -m 0644 "$PREFIX/installer/systemd/labhub-proxy.service" "$PREFIX/installer/systemd/labhub.service" "$UNIT_DIR/"
    systemctl daemon-reload
    # Debian's jupyterhub package (installed for jupyterhub-singleuser) starts its own hub on :8000
    if systemctl is-enabled --quiet jupyterhub.service 2>/dev/null || systemctl is-active --quiet jupyterhub.service 2>/dev/null; then
      systemctl disable --now jupyterhub.service
      say "stopped and disabled Debian's jupyterhub.service (LabHub replaces it)"
    fi
    systemctl enable --quiet labhub-proxy.service labhub.service
    if systemctl is-active --quiet labhub-proxy.service && [ "$fp" = "$recorded" ]; then restart_proxy=0; fi
    if [ "$restart_proxy" = 1 ]; then systemctl restart labhub-proxy.service; else say "proxy unchanged: left running"; fi
    systemctl restart labhub.service
  else
    local sup=$PREFIX/bin/labhub-supervise
    export LABHUB_LOG_DIR=$log_dir LABHUB_RUN_DIR=$RUN_DIR
    if { "$sup" status || true; } | grep -q '^proxy: running' && [ "$fp" = "$recorded" ]; then restart_proxy=0; fi
    if [ "$restart_proxy" = 1 ]; then "$sup" restart proxy; else say "proxy unchanged: left running"; fi
    "$sup" restart hub
    say "note: systemd is not PID 1 here, so LabHub runs under its own supervision ($sup status|stop|start);"
    say "      it does not start by itself at boot: have your init run \"$sup start\""
  fi
  echo "$fp" >"$data_dir/proxy.fingerprint"
}

step_wait() {
  local scheme=http p=$public_port url host
  [ -z "$tls_in_use" ] || scheme=https
  url="$scheme://127.0.0.1:$p/hub/api"
  if ! "$PREFIX/node/bin/node" -e '
    const url = process.argv[1];
    const deadline = Date.now() + 90_000;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"; // a local health check of our own certificate
    (async () => {
      while (Date.now() < deadline) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
          if (res.ok) return void console.log(`the hub answers: ${await res.text()}`);
        } catch {}
        await new Promise((r) => setTimeout(r, 300));
      }
      process.exit(1);
    })();
  ' "$url" 2>/dev/null; then
    tail -n 20 "$log_dir/hub.out" 2>/dev/null >&2 || true
    die 1 "the hub did not answer at $url within 90 s; see $log_dir (the previous version, if any, is in $PREFIX.old)"
  fi
  rm -rf "$PREFIX.old"
  host=$(hostname -I 2>/dev/null | awk '{print $1}')
  say ""
  say "LabHub $(release_field "$PREFIX/RELEASE" version) is running: $scheme://${host:-$(hostname)}:$p/"
  say "next steps:"
  say "  - students log in with their Linux user name and password (accounts: useradd -m NAME && passwd NAME,"
  say "    or import a class roster in the admin pages)"
  say "  - admins (members of the $ADMIN_GROUP group${admins[*]:+: ${admins[*]}}) manage the lab at $scheme://${host:-$(hostname)}:$p/hub/admin"
  say "  - config: $CONFIG (re-run this installer to upgrade; --uninstall to remove)"
  say "  - logs: $log_dir; services: $( [ "$init" = systemd ] && echo "systemctl status labhub labhub-proxy" || echo "$PREFIX/bin/labhub-supervise status")"
}
