# install.sh --uninstall [--purge]: stops students' servers and the services, removes the program;
# keeps homes, state, config, logs and backups (lists them), or with --purge removes all of those
# except the homes. Works whether or not the program is still there (a second run with --purge).

# where the installed config puts things (defaults when it cannot be read)
read_locations() {
  { read -r data_dir; read -r log_dir; read -r backup_repo; } < <(config_values dataDir logDir backup.repository)
  if [ -z "$data_dir" ] && [ -f "$CONFIG" ] && command -v python3 >/dev/null; then
    read -r data_dir log_dir backup_repo < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
d = c.get("dataDir", "/var/lib/labhub")
print(d, c.get("logDir") or d + "/logs", c.get("backup", {}).get("repository", "/var/backups/labhub/restic"))' "$CONFIG" 2>/dev/null) || true
  fi
  data_dir=${data_dir:-$DATA_DEFAULT} log_dir=${log_dir:-$LOG_DEFAULT} backup_repo=${backup_repo:-$BACKUPS_DEFAULT/restic}
}

# students' servers recorded as running (local spawner: pid + start time, so a reused pid is left alone)
stop_student_servers() {
  local state=$data_dir/state.json pid start pids=() left
  [ -f "$state" ] && command -v python3 >/dev/null || return 0
  while read -r pid start; do
    [ -r "/proc/$pid/stat" ] || continue
    [ "$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $20}')" = "$start" ] || continue
    # each server leads its own session and process group (kernels included)
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
  done < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
for r in s.get("servers", {}).values():
    st = r.get("state") or {}
    if r.get("status") in ("running", "pending", "stopping") and isinstance(st.get("pid"), int) and isinstance(st.get("startTime"), int):
        print(st["pid"], st["startTime"])' "$state" 2>/dev/null)
  [ "${#pids[@]}" = 0 ] && return 0
  for _ in $(seq 1 100); do
    left=0
    for pid in "${pids[@]}"; do [ -e "/proc/$pid" ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)" != Z ] && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  say "stopped ${#pids[@]} student server(s)"
}

run_uninstall() {
  read_locations
  local systemd_units=0
  [ -f "$UNIT_DIR/labhub.service" ] || [ -f "$UNIT_DIR/labhub-proxy.service" ] && systemd_units=1
  if [ "$dry_run" = 1 ]; then
    say "dry run: this is the plan; nothing was changed"
    say "  1. stop the hub and proxy ($( [ "$systemd_units" = 1 ] && echo "systemd units" || echo "LabHub's supervision")) and students' running servers"
    say "  2. remove $PREFIX and /usr/local/bin/labhub"
    if [ "$purge" = 1 ]; then say "  3. remove $data_dir, $CONFIG ($ETC), $log_dir, $backup_repo and the $ADMIN_GROUP group; keep /home"
    else say "  3. keep /home, $data_dir, $ETC, $log_dir, $backup_repo"; fi
    return 0
  fi
  step 1 3 "stopping LabHub"
  if [ -d /run/systemd/system ] && [ "$systemd_units" = 1 ]; then
    systemctl disable --now labhub.service labhub-proxy.service 2>/dev/null || true
  fi
  if [ -x "$PREFIX/bin/labhub-supervise" ]; then
    LABHUB_RUN_DIR=$RUN_DIR LABHUB_LOG_DIR=$log_dir "$PREFIX/bin/labhub-supervise" stop all || true
  elif [ -d "$RUN_DIR" ]; then
    local f
    for f in "$RUN_DIR"/*.supervisor.pid "$RUN_DIR"/*.pid; do [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null || true; done
  fi
  stop_student_servers
  rm -f "$UNIT_DIR/labhub.service" "$UNIT_DIR/labhub-proxy.service"
  [ -d /run/systemd/system ] && systemctl daemon-reload || true
  rm -rf "$RUN_DIR"
  step 2 3 "removing the program"
  rm -rf "$PREFIX" "$PREFIX.new" "$PREFIX.old"
  [ -L /usr/local/bin/labhub ] && rm -f /usr/local/bin/labhub
  step 3 3 "$( [ "$purge" = 1 ] && echo "removing state, config, logs and backups (--purge)" || echo "keeping data")"
  local kept=() removed=() p
  if [ "$purge" = 1 ]; then
    for p in "$data_dir" "$ETC" "$log_dir" "$backup_repo"; do
      [ -e "$p" ] && { rm -rf "$p"; removed+=("$p"); }
    done
    rmdir "$BACKUPS_DEFAULT" 2>/dev/null || true
    getent group "$ADMIN_GROUP" >/dev/null && groupdel "$ADMIN_GROUP" && removed+=("group $ADMIN_GROUP")
    kept+=("/home (students' homes)")
  else
    kept+=("/home (students' homes)")
    for p in "$data_dir" "$ETC" "$log_dir" "$backup_repo"; do [ -e "$p" ] && kept+=("$p"); done
    getent group "$ADMIN_GROUP" >/dev/null && kept+=("group $ADMIN_GROUP")
  fi
  say "LabHub is uninstalled."
  [ "${#removed[@]}" = 0 ] || { say "removed:"; for p in "${removed[@]}"; do say "  $p"; done; }
  say "kept:"
  for p in "${kept[@]}"; do say "  $p"; done
  [ "$purge" = 1 ] || say "(install.sh --uninstall --purge removes all of these but the homes; re-installing keeps using them)"
}
