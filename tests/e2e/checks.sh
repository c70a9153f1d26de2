# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# What the e2e test asserts, one function per boot. run.sh boots the guest
# once per entry of E2E_BOOTS (run.sh), points REPORT at that boot's guest
# report and calls check_boot_N. Add assertions here; add what they read to
# guest-report.sh (UNITS, FILES, COMMANDS).
#
# The user data is run.sh's $work/user-data: examples/cloud-config.yaml,
# examples/script.sh, tests/e2e/firewall.yaml (inbound dropped but for tcp
# 8080) and the other parts make_metadata (run.sh) lists, among them
# first-boot-setup.yaml (time zone, a trusted CA, admin's password hash) and
# host-keys.yaml (an ed25519 host key pair), filled in with material made for
# the run, in one MIME multipart. The IMDS key is a key pair run.sh makes
# ($work/id_e2e), so the host can log in.

E2E_INSTANCE_1=i-0123456789abcdef0 # the fake IMDS's default instance
E2E_INSTANCE_3=i-0e2e0000000000003 # boot 3: a new instance from the same image
E2E_INSTANCE_6=i-0e2e0000000000006 # boot 6: a package that needs a reboot
E2E_INSTANCE_7=i-0e2e0000000000007 # boot 7: power_state powers the guest off

# Boots 1 and 2 get the whole e2e user data, host keys given in it included
# (host-keys.yaml). Boot 3 is a new instance launched from the same image
# without that part (user-data-new-instance): with the part, a new instance
# would get the same given keys again, so the part is left out there to keep
# asserting that a new instance generates its own keys, and that the given
# ones do not outlive the instance they were given to (ssh_deletekeys). That
# user data also mounts ephemeral1 at /data (late-volume.yaml): the block
# device mapping of boots 3 and 4 lists it as sdc, but its disk is attached
# only from boot 4 on, the same instance booted again (a volume attached
# after launch). Boot 5 (amiboot off) serves the same user data.
#
# Boot 1 also finds its root disk 1 GiB larger than the root partition
# (run.sh's make_image builds a GPT image; boot_setup enlarges it): growpart.
#
# Boot 6 has its own user data (tests/e2e/packages-reboot.yaml): a package
# whose postinst asks for a reboot, and package_reboot_if_required. The guest
# reboots after the final stage; QEMU's -no-reboot turns that into an exit,
# so that boot sends no report: its console and its disk tell what happened.
#
# Boot 7 (tests/e2e/power-state.yaml): a runcmd, then power_state powers the
# guest off. amiboot-e2e-report-at-shutdown.service sends the report while
# the guest shuts down; the host does not log in (no probe).
#
# Boot 8 boots boot 7's instance again with the same user data: power_state
# and runcmd are per instance, so nothing happens per boot; the report is
# the usual one (the host logs in).
boot_user_data() {
  case "$1" in
    1 | 2) echo "$E2E_USER_DATA" ;;
    4) echo "$E2E_USER_DATA_FAILING_BOOTCMD" ;;
    6) echo "$E2E_DIR/packages-reboot.yaml" ;;
    7 | 8) echo "$E2E_DIR/power-state.yaml" ;;
    *) echo "$E2E_USER_DATA_NEW_INSTANCE" ;;
  esac
}
# boot_imds_dir N: the fake IMDS's metadata folder for boot N (run.sh's
# make_metadata makes both).
boot_imds_dir() {
  case "$1" in
    3 | 4) echo "$E2E_IMDS_DIR_LATE_VOLUME" ;;
    *) echo "$E2E_IMDS_DIR" ;;
  esac
}
boot_reboots() { [ "$1" = 6 ]; }
boot_powers_off_itself() { [ "$1" = 7 ]; }

# boot_skip_reason N: why boot N cannot run with this agent (empty: it runs).
# run.sh validated each boot's user data with the image's agent
# ($work/validate-boot-N.json). Boot 7 needs the power_state module: while
# the agent warns that it has no module for power_state, it is skipped.
boot_skip_reason() {
  [ "$1" = 7 ] || [ "$1" = 8 ] || return 0
  # Boot 8 is boot 7's instance again: skipped with it.
  # shellcheck disable=SC2154 # work: run.sh's working folder
  python3 - "$work/validate-boot-7.json" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        doc = json.load(f)
except (OSError, ValueError):
    sys.exit(0)  # no verdict: the boot runs, its checks tell
for w in doc.get("warnings", []):
    if w.get("path") == "power_state" and "no module" in w.get("message", ""):
        print("the agent has no power_state module (amiboot validate: %s)" % w["message"])
EOF
}

# --- per-boot host services ------------------------------------------------
# boot_setup N DIR runs before boot N starts, boot_teardown N DIR after it
# ended (DIR is the boot's folder; its report lands in DIR/report). A host
# service the guest must reach (a readiness receiver, ...) is started in
# boot_setup: put its pid in E2E_EXTRA_PIDS (killed on any exit) and a QEMU
# guestfwd rule in E2E_GUESTFWD, e.g.
#   E2E_GUESTFWD+=("tcp:169.254.169.250:8080-cmd:socat - TCP:127.0.0.1:$port")
#
# Every boot: QEMU forwards host ports (E2E_HOSTFWD) to the guest's 22, 8080
# and 8081, and e2e_host_probe runs in the background while the guest is up:
# it logs in over ssh, probes the ports, then creates the marker the guest's
# report waits for. What it saw lands in DIR/host/.
E2E_PROBE_PID=""
boot_setup() {
  local n=$1 dir=$2 ports
  ports=$(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
  read -r E2E_SSH_PORT E2E_PORT_OPEN E2E_PORT_CLOSED <<<"$ports"
  E2E_HOSTFWD+=("tcp:127.0.0.1:$E2E_SSH_PORT-:22"
    "tcp:127.0.0.1:$E2E_PORT_OPEN-:8080"
    "tcp:127.0.0.1:$E2E_PORT_CLOSED-:8081")
  mkdir -p "$dir/host"
  # Boot 1: the root disk grown by 1 GiB since the image was made, as an
  # 8 GiB AMI launched on a larger volume.
  # shellcheck disable=SC2154 # work: run.sh's working folder
  if [ "$n" = 1 ]; then
    truncate -s +1G "$work/disk.img"
    BOOT1_DISK_BYTES=$(stat -c %s "$work/disk.img")
  fi
  # From boot 4 on, ephemeral1's disk (sdc in the mapping) is attached.
  # shellcheck disable=SC2054 # commas inside QEMU option values
  if [ "$n" -ge 4 ]; then
    E2E_DISKS+=(-drive "file=$work/disk3.img,if=none,id=d3,format=raw"
      -device virtio-blk-pci,drive=d3,serial=vol0late)
  fi
  # The power_state boot shuts down on its own, whether the host logged in
  # or not, and the reboot boot's checks read only its console and disk:
  # no logins, no probes (under TCG they would take the guest's CPU from
  # the final stage).
  boot_powers_off_itself "$n" && return 0
  boot_reboots "$n" && return 0
  e2e_host_probe "$n" "$dir/host" >"$dir/host/probe.log" 2>&1 &
  E2E_PROBE_PID=$!
  E2E_EXTRA_PIDS+=("$E2E_PROBE_PID")
}
boot_teardown() {
  # The guest powered off: the probe is done, or never will be.
  for _ in $(seq 1 20); do
    kill -0 "$E2E_PROBE_PID" 2>/dev/null || break
    sleep 0.5
  done
  stop_pid "$E2E_PROBE_PID"
  E2E_PROBE_PID=""
}

# e2e_ssh USER KNOWN_HOSTS STRICT [COMMAND...]: one ssh login to the guest
# with the IMDS key (StrictHostKeyChecking=STRICT). Host keys are recorded
# under one alias, so known_hosts files of different boots (other ports)
# compare.
e2e_ssh() {
  local user=$1 known=$2 strict=$3
  shift 3
  timeout 120 ssh -F none -p "$E2E_SSH_PORT" -i "$E2E_SSH_KEY" -o IdentitiesOnly=yes \
    -o BatchMode=yes -o ConnectTimeout=20 -o HostKeyAlias=amiboot-e2e \
    -o StrictHostKeyChecking="$strict" -o UserKnownHostsFile="$known" \
    -o GlobalKnownHostsFile=/dev/null "$user@127.0.0.1" "$@"
}

# sshd_reset_before_identification ERR_FILE: whether the connection whose
# stderr ERR_FILE holds was reset or closed before sshd identified itself
# (ssh: "kex_exchange_identification: ..."; ssh-keyscan: "Connection closed
# by remote host" or reset, and no key). The final stage reloads sshd once it
# has made the slower host key types, and OpenSSH closes its listener while
# it executes itself again (about a second under TCG): a connection made
# then is reset, and a client tries it again, as these probes do.
sshd_reset_before_identification() {
  grep -q -E 'kex_exchange_identification|Connection reset by|Connection closed by remote host' "$1"
}

# e2e_port_probe PORT WAIT: the first line the guest sends on a forwarded
# port within WAIT seconds (slirp accepts the host side at once, so a port
# the guest filters gives nothing: that costs the whole WAIT, an answer
# returns at once).
e2e_port_probe() {
  # shellcheck disable=SC2016 # the inner bash expands them
  timeout $(($2 + 10)) bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    IFS= read -r -t "$2" line <&3 && printf "%s\n" "$line"' _ "$1" "$2" 2>/dev/null | head -c 64
}

# e2e_host_probe N OUT: while boot N runs. Writes OUT/NAME.{out,err,rc}:
# ssh (admin: `id -un` and a sudo try), root (boot 1: cloud-init's
# disable_root answer), prev (admin with the previous boot's known_hosts, strict), fresh
# (admin with this boot's known_hosts, strict), given (admin with a
# known_hosts that holds only the host key given in host-keys.yaml, strict),
# marker (the login that lets the guest report); OUT/keyscan-ed25519 (what
# `ssh-keyscan -t ed25519` gets); OUT/probe-PORT: 22, 8080 and 8081 as the
# host sees them. The first login records the host key (accept-new); the
# others only read known_hosts files and run side by side with the port
# probes (each is its own connection, and under TCG each costs the guest
# seconds); the marker login comes last.
e2e_host_probe() {
  trap - EXIT INT TERM
  set +e
  local n=$1 out=$2 deadline rc tries=0 prev
  # shellcheck disable=SC2154 # boot_timeout: run.sh's --boot-timeout
  deadline=$(($(date +%s) + boot_timeout))
  log() { echo "[$(date +%T)] $*"; }

  # The default user's login, once sshd is up and logins are allowed. Tried
  # once the console says ssh.service started (systemd's status line), and
  # once a minute regardless: a connection made before the guest's network
  # is up waits in QEMU's user network for its SYN to be sent again
  # (seconds, doubling) or for ConnectTimeout, long after sshd is up.
  local console last
  console=$(dirname "$out")/console.log
  last=$(date +%s)
  while :; do
    if grep -a -q 'Started .*ssh\.service' "$console" 2>/dev/null ||
      [ $(($(date +%s) - last)) -ge 60 ]; then
      last=$(date +%s)
      tries=$((tries + 1))
      e2e_ssh admin "$out/known_hosts" accept-new \
        'id -un; if sudo -n true 2>/dev/null; then echo sudo-ok; else echo sudo-no; fi' \
        >"$out/ssh.out" 2>"$out/ssh.err"
      rc=$?
      echo "$rc" >"$out/ssh.rc"
      log "ssh admin try $tries: rc $rc $(head -c 200 "$out/ssh.err" | tr '\n' ' ')"
      [ "$rc" = 0 ] && break
    fi
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.5
  done
  echo "$tries" >"$out/ssh.tries"

  # again_after_reset NAME ATTEMPT ERR_FILE: whether to try NAME's
  # connection again (5 tries at most, 2 s apart): sshd reset it before
  # identifying itself.
  again_after_reset() {
    [ "$2" -lt 5 ] && sshd_reset_before_identification "$3" || return 1
    log "$1 try $2: reset before sshd identified itself (a reload?); again in 2 s"
    sleep 2
  }
  # e2e_try NAME USER KNOWN_HOSTS: one strict login running `true`.
  e2e_try() {
    local attempt=1 rc
    while :; do
      e2e_ssh "$2" "$3" yes true >"$out/$1.out" 2>"$out/$1.err"
      rc=$?
      [ "$rc" != 0 ] && again_after_reset "$1" "$attempt" "$out/$1.err" || break
      attempt=$((attempt + 1))
    done
    echo "$rc" >"$out/$1.rc"
  }
  # root's answer (cloud-init's disable_root: a message, `sleep 10`, exit
  # 142) is asserted on boot 1; on the other boots its 10 s would only hold
  # up the report.
  local pids=()
  if [ "$n" = 1 ]; then
    e2e_try root root "$out/known_hosts" &
    pids+=($!)
  fi
  prev=$(dirname "$out")/../boot-$((n - 1))/host/known_hosts
  if [ -s "$prev" ]; then
    cp "$prev" "$out/known_hosts.prev"
    e2e_try prev admin "$out/known_hosts.prev" &
    pids+=($!)
  fi
  e2e_try fresh admin "$out/known_hosts" &
  pids+=($!)
  # shellcheck disable=SC2154 # E2E_GIVEN_KNOWN_HOSTS: run.sh's make_run_material
  if [ -s "$E2E_GIVEN_KNOWN_HOSTS" ]; then
    cp "$E2E_GIVEN_KNOWN_HOSTS" "$out/known_hosts.given"
    e2e_try given admin "$out/known_hosts.given" &
    pids+=($!)
  fi
  (
    attempt=1
    while :; do
      timeout 60 ssh-keyscan -T 20 -t ed25519 -p "$E2E_SSH_PORT" 127.0.0.1 \
        >"$out/keyscan-ed25519" 2>"$out/keyscan-ed25519.err"
      # ssh-keyscan exits 0 without a key too: the key is the success.
      ! grep -q -v '^#' "$out/keyscan-ed25519" &&
        again_after_reset keyscan "$attempt" "$out/keyscan-ed25519.err" || break
      attempt=$((attempt + 1))
    done
  ) &
  pids+=($!)

  # The listeners start with the guest's report, after the final stage
  # (3 minutes at most: a filtered 8080 must still leave time for the marker).
  local until=$(($(date +%s) + 180))
  [ "$until" -gt "$deadline" ] && until=$deadline
  tries=0
  while :; do
    tries=$((tries + 1))
    e2e_port_probe "$E2E_PORT_OPEN" 10 >"$out/probe-8080"
    log "probe 8080 try $tries: $(cat "$out/probe-8080")"
    grep -q "amiboot-e2e-open 8080" "$out/probe-8080" && break
    [ "$(date +%s)" -ge "$until" ] && break
    sleep 0.3
  done

  # The marker login opens now, beside the last probes; its command waits
  # for a line that the host sends once every login and probe is done (the
  # guest waits for the marker, not for a login's seconds after them).
  local fifo=$out/marker.fifo mfd marker
  rm -f "$fifo"
  mkfifo "$fifo"
  e2e_ssh admin "$out/known_hosts" yes 'read -r _; touch /run/amiboot-e2e/host-login' \
    <"$fifo" >"$out/marker.out" 2>"$out/marker.err" &
  marker=$!
  exec {mfd}>"$fifo"
  # Side by side: 22 answers at once; 8081 (filtered) must stay silent for
  # 6 s; unfiltered (boot 5) it answers as fast as 8080 just did.
  e2e_port_probe "$E2E_PORT_CLOSED" 6 >"$out/probe-8081" &
  pids+=($!)
  e2e_port_probe "$E2E_SSH_PORT" 20 >"$out/probe-22" &
  pids+=($!)
  wait "${pids[@]}"
  log "probe 8081: $(cat "$out/probe-8081")"
  log "probe 22: $(cat "$out/probe-22")"
  [ -f "$out/root.rc" ] && log "ssh root: rc $(cat "$out/root.rc")"
  [ -f "$out/prev.rc" ] && log "ssh with boot $((n - 1))'s known_hosts: rc $(cat "$out/prev.rc")"
  log "ssh with this boot's known_hosts: rc $(cat "$out/fresh.rc")"
  [ -f "$out/given.rc" ] && log "ssh with the given host key's known_hosts: rc $(cat "$out/given.rc")"
  log "ssh-keyscan -t ed25519: $(grep -vc '^#' "$out/keyscan-ed25519") key(s)"

  # Done: let the guest report and power off. (A marker login that failed
  # is no longer reading: the line goes nowhere, and it is tried again.)
  (
    trap '' PIPE
    echo go >&"$mfd"
  ) 2>/dev/null
  exec {mfd}>&-
  wait "$marker"
  rc=$?
  echo "$rc" >"$out/marker.rc"
  log "marker: rc $rc"
  tries=0
  while [ "$rc" != 0 ]; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 1
    tries=$((tries + 1))
    e2e_ssh admin "$out/known_hosts" yes 'touch /run/amiboot-e2e/host-login' \
      >"$out/marker.out" 2>"$out/marker.err"
    rc=$?
    echo "$rc" >"$out/marker.rc"
    log "marker try $tries: rc $rc"
  done
  return 0
}

MSGID_START=8b1f0a3e5c6d4e2f9a7b1c0d2e3f4a5b
MSGID_MODULE_DONE=3c9e7d1a2b4f4c6e8d0a1b2c3d4e5f60
MSGID_FINISHED=e4d2c1b0a9f84e7d6c5b4a3928171605

# --- checks every boot makes ---------------------------------------------------

# check_common INSTANCE_ID [FAILED_MODULE]: FAILED_MODULE, an init-stage
# module the boot's user data makes fail (boot 4's bootcmd): the init stage
# and the status report the error, the other modules ran.
check_common() {
  local id=$1 failed=${2:-} n

  if [ -z "$failed" ]; then
    expect_unit_active amiboot.service
    expect_unit_active amiboot-final.service
  else
    check_failed_module "$failed"
  fi

  # One run per stage: one start entry each, and systemd started each once.
  n=$(count_lines "$(journal MESSAGE_ID=$MSGID_START AMIBOOT_STAGE=init)")
  expect_eq "init stage started once" 1 "$n"
  n=$(count_lines "$(journal MESSAGE_ID=$MSGID_START AMIBOOT_STAGE=final)")
  expect_eq "final stage started once" 1 "$n"
  expect_eq "amiboot.service not restarted" 0 "$(unit_prop amiboot.service NRestarts)"
  if [ -z "$failed" ]; then
    expect_match "init stage finished: done" "stage finished: done" \
      "$(journal MESSAGE_ID=$MSGID_FINISHED AMIBOOT_STAGE=init)"
    expect_match "final stage finished: done" "stage finished: done" \
      "$(journal MESSAGE_ID=$MSGID_FINISHED AMIBOOT_STAGE=final)"
  fi

  # Journal fields: every module entry names its module, stage and instance.
  n=$(count_lines "$(journal AMIBOOT_MODULE)")
  if [ "$n" -gt 0 ]; then
    e2e_pass "$n journal entries carry AMIBOOT_MODULE"
  else
    e2e_fail "no journal entry carries AMIBOOT_MODULE"
  fi
  expect_eq "every module entry has AMIBOOT_STAGE" 0 \
    "$(count_lines "$(journal AMIBOOT_MODULE '!AMIBOOT_STAGE')")"
  # Module results (the source's own lines come before the id is known).
  expect_eq "every module result has AMIBOOT_INSTANCE_ID" 0 \
    "$(count_lines "$(journal MESSAGE_ID=$MSGID_MODULE_DONE '!AMIBOOT_INSTANCE_ID')")"
  expect_eq "every AMIBOOT_INSTANCE_ID is $id" 0 \
    "$(count_lines "$(journal "AMIBOOT_INSTANCE_ID~^(?!$id\$)")")"
  expect_eq "module-done entries carry AMIBOOT_RESULT and AMIBOOT_DURATION_MS" 0 \
    "$(count_lines "$(journal MESSAGE_ID=$MSGID_MODULE_DONE '!AMIBOOT_RESULT')$(journal MESSAGE_ID=$MSGID_MODULE_DONE '!AMIBOOT_DURATION_MS')")"

  # `journalctl -u amiboot` shows exactly one "module NAME: ..." line per
  # module of the stage, the same set status.json lists.
  check_one_line_per_module amiboot.service init "$REPORT/journal-u-amiboot.txt"
  check_one_line_per_module amiboot-final.service final "$REPORT/journal-u-amiboot-final.txt"

  # amiboot status: done, exit 0.
  if [ -z "$failed" ]; then
    expect_eq "amiboot status exits 0" 0 "$(cat "$REPORT/status.rc")"
    expect_match "amiboot status says done" "^status: done" "$(cat "$REPORT/status.txt")"
    expect_eq "amiboot status --json: status" "done" "$(status_json 'd["status"]')"
    expect_eq "amiboot status --json: no errors" "[]" "$(status_json 'd["errors"]')"
  fi
  expect_eq "amiboot status --json: instance_id" "$id" "$(status_json 'd["instance_id"]')"

  # Logins wait for amiboot: it was active before sshd began to start.
  local amiboot_active ssh_start
  amiboot_active=$(unit_prop amiboot.service ActiveEnterTimestampMonotonic)
  ssh_start=$(unit_prop ssh.service InactiveExitTimestampMonotonic)
  expect_lt "amiboot.service active before ssh.service starts" "$amiboot_active" "$ssh_start"
  expect_lt "amiboot.service active before systemd-user-sessions starts" "$amiboot_active" \
    "$(unit_prop systemd-user-sessions.service InactiveExitTimestampMonotonic)"
  expect_lt "network-online.target before amiboot.service starts" \
    "$(unit_prop network-online.target ActiveEnterTimestampMonotonic)" \
    "$(unit_prop amiboot.service InactiveExitTimestampMonotonic)"
  expect_lt "amiboot-final starts after multi-user.target" \
    "$(unit_prop multi-user.target ActiveEnterTimestampMonotonic)" \
    "$(unit_prop amiboot-final.service InactiveExitTimestampMonotonic)"
  # After=multi-user.target with WantedBy=multi-user.target is no cycle, and
  # multi-user.target does not wait for the final stage.
  expect_no_match "multi-user.target is not ordered after amiboot-final" \
    "amiboot-final\.service" "$(unit_prop multi-user.target After)"
  expect_eq "no ordering cycles in the journal" "" "$(cat "$REPORT/commands/ordering-cycles.out")"
  if [ -z "$failed" ]; then
    expect_eq "no failed units" "" "$(cat "$REPORT/commands/failed-units.out")"
  fi

  check_docs

  # The second disk is there for the volume tests of later issues.
  expect_match "second disk visible by serial" "virtio-vol0123" "$(cat "$REPORT/commands/disks.out")"

  # State is root-only.
  expect_eq "/var/lib/amiboot is 0700 root:root" "700 root root" \
    "$(cat "$REPORT/commands/state-dir-mode.out")"
}

# check_failed_module NAME: the init-stage module NAME failed this boot (its
# user data makes it fail); everything else ran, and the failure is told
# where an admin looks: amiboot status (exit 1), the units, and journalctl -x
# with the catalog's explanation (packaging/amiboot.catalog).
MSGID_MODULE_FAILED=e83429b1e4b840d4b57a1843b15fa3be
check_failed_module() {
  local m=$1 x
  expect_match "module $m failed" "^module $m: failed " "$(module_line "$m")"
  expect_eq "one module-failed entry, for $m" "$m" \
    "$(journal --field AMIBOOT_MODULE MESSAGE_ID=$MSGID_MODULE_FAILED)"
  expect_match "init stage finished: error" "stage finished: error" \
    "$(journal MESSAGE_ID=$MSGID_FINISHED AMIBOOT_STAGE=init)"
  expect_eq "amiboot status exits 1 (done with errors)" 1 "$(cat "$REPORT/status.rc")"
  expect_match "amiboot status says error" "^status: error" "$(cat "$REPORT/status.txt")"
  expect_eq "amiboot status --json: status" "error" "$(status_json 'd["status"]')"
  expect_match "amiboot status --json: the error names $m" "^$m: " \
    "$(status_json '"\n".join(d["errors"])')"
  expect_eq "amiboot.service: the agent exited 1" 1 "$(unit_prop amiboot.service ExecMainStatus)"
  expect_eq "failed units: amiboot's only" "$E2E_FAILED_UNITS" \
    "$(awk '{print $1}' "$REPORT/commands/failed-units.out" | paste -sd' ')"
  # journalctl -x: the catalog's subject and explanation under the entry.
  x=$(cat "$REPORT/commands/failed-module-x.out")
  expect_contains "journalctl -x: the catalog's subject names the module" \
    "Subject: amiboot module $m failed" "$x"
  expect_contains "journalctl -x: the catalog's explanation" \
    "The other modules ran on: one broken module does" "$x"
  expect_contains "journalctl -x: the command to see the module's lines" \
    "AMIBOOT_MODULE=$m" "$x"
}

# check_docs: the man pages render with the image's man, bash completion is
# found as an interactive login shell finds it (bash-completion's on-demand
# loader, what a Tab press runs), the journal catalog is compiled.
check_docs() {
  # Blanks squeezed: trixie's groff justifies NAME lines with tabs and
  # doubled spaces ("amiboot<TAB>-  configure  an  EC2 ...").
  local man8 man5
  man8=$(tr -s '[:blank:]' ' ' <"$REPORT/commands/man-amiboot.out")
  man5=$(tr -s '[:blank:]' ' ' <"$REPORT/commands/man-amiboot-yaml.out")
  expect_eq "man pages installed" \
    "/usr/share/man/man5/amiboot.yaml.5.gz /usr/share/man/man8/amiboot.8.gz" \
    "$(sort "$REPORT/commands/man-files.out" | paste -sd' ')"
  expect_contains "man amiboot renders: NAME" "amiboot - configure an EC2 instance at boot" "$man8"
  expect_match "man amiboot renders: SYNOPSIS with analyze" "^ amiboot analyze \[show\|blame\|plot\]" "$man8"
  expect_contains "man amiboot.yaml renders: NAME" "amiboot.yaml - image configuration of amiboot" "$man5"
  expect_contains "man amiboot.yaml renders: a setting" "amiboot.imds.endpoint" "$man5"
  expect_eq "bash -i: complete -p amiboot" "complete -F _amiboot amiboot" \
    "$(cat "$REPORT/commands/completion.out")"
  expect_eq "bash completes 'amiboot ana' to analyze" "analyze" \
    "$(cat "$REPORT/commands/completion-words.out")"
  expect_eq "journalctl --list-catalog: 4 amiboot entries" 4 \
    "$(count_lines "$(cat "$REPORT/commands/catalog-list.out")")"
}

# check_one_command (boot 1): the README's one command for everything a
# boot's amiboot run caused shows amiboot's own lines, the user script's and
# apt-get's (packages module).
check_one_command() {
  local one
  one=$(cat "$REPORT/commands/one-command.out")
  expect_contains "the one journalctl command: the script's line" "hello from the example script" "$one"
  expect_contains "the one journalctl command: apt-get's lines" "Setting up amiboot-e2e-hello (1.0)" "$one"
  expect_contains "the one journalctl command: amiboot's own" "module packages: ok" "$one"
  expect_eq "the one journalctl command: identifiers amiboot, amiboot-script, apt-get" \
    "amiboot amiboot-script apt-get" \
    "$(python3 -c 'import json,sys
ids = set()
for line in open(sys.argv[1]):
    try:
        ids.add(json.loads(line).get("SYSLOG_IDENTIFIER"))
    except ValueError:
        pass
print(" ".join(sorted(i for i in ids & {"amiboot", "amiboot-script", "apt-get"})))' \
      "$REPORT/commands/one-command-json.out" 2>&1)"
}

# host_file NAME: what e2e_host_probe saw during this boot (empty if nothing).
host_file() {
  cat "$REPORT/../host/$1" 2>/dev/null
}

# console_markers: how many fingerprint blocks this boot's serial console shows.
console_markers() {
  grep -c -- "-----BEGIN SSH HOST KEY FINGERPRINTS-----" "$REPORT/../console.log" 2>/dev/null
}

# host_seen_fingerprint: the SHA256 fingerprint of the host key ssh recorded.
host_seen_fingerprint() {
  ssh-keygen -l -f "$REPORT/../host/known_hosts" 2>/dev/null | awk '{print $2; exit}'
}

# check_ssh_login: the host logged in as the default user with the IMDS key,
# the guest saw it, and sshd's banner answers through the firewall.
check_ssh_login() {
  expect_eq "ssh as admin with the IMDS key: exit 0" 0 "$(host_file ssh.rc)"
  expect_eq "ssh as admin: id -un says admin" admin "$(host_file ssh.out | head -n 1)"
  expect_match "the guest saw the host's login" "^yes " "$(cat "$REPORT/host-login" 2>/dev/null)"
  expect_match "ssh banner on port 22 through the firewall" "^SSH-2\.0-" "$(host_file probe-22)"
}

# check_firewall: the e2e user data's firewall part is applied this boot.
check_firewall() {
  expect_match "firewall module ok" "^module firewall: ok" "$(module_line firewall)"
  expect_match "firewall: table inet amiboot loaded" "table inet amiboot" \
    "$(cat "$REPORT/commands/nft-ruleset.out")"
  expect_match "firewall: allowed port 8080 answers the host" "^amiboot-e2e-open 8080" \
    "$(host_file probe-8080)"
  expect_eq "firewall: port 8081 (not allowed) gives the host nothing" "" "$(host_file probe-8081)"
  expect_match "the 8081 listener answers inside the guest (loopback)" "^amiboot-e2e-open 8081" \
    "$(cat "$REPORT/commands/listener-8081-local.out")"
}

# check_one_line_per_module UNIT STAGE FILE
check_one_line_per_module() {
  local unit=$1 stage=$2 file=$3 expected actual dups
  expected=$(status_json "\"\\n\".join(sorted(m[\"name\"] for m in d[\"stages\"][\"$stage\"][\"modules\"]))")
  actual=$(sed -n 's/^module \([A-Za-z0-9_]*\): .*/\1/p' "$file" | sort)
  dups=$(printf '%s\n' "$actual" | uniq -d)
  if [ -z "$expected" ]; then
    e2e_fail "journalctl -u $unit: status.json lists no $stage modules"
  elif [ "$expected" = "$actual" ]; then
    e2e_pass "journalctl -u $unit: one line per module ($(count_lines "$actual") modules)"
  else
    e2e_fail "journalctl -u $unit: module lines [$(tr '\n' ' ' <<<"$actual")] != status.json [$(tr '\n' ' ' <<<"$expected")]${dups:+; twice: $dups}"
  fi
}

# module_line MODULE: its "module NAME: ..." line from either unit's journal.
module_line() {
  grep -h "^module $1: " "$REPORT/journal-u-amiboot.txt" "$REPORT/journal-u-amiboot-final.txt"
}

# --- first-boot-setup.yaml and host-keys.yaml ----------------------------------

# check_first_boot_setup RAN: the time zone, the trusted CA and admin's
# password first-boot-setup.yaml asks for. RAN=yes: their per-instance
# modules ran this boot; no: they were skipped (the same instance), and what
# they did is still there.
check_first_boot_setup() {
  local ran=$1 m
  for m in timezone ca_certs set_passwords; do
    if [ "$ran" = yes ]; then
      expect_match "$m module ok" "^module $m: ok" "$(module_line "$m")"
    else
      expect_match "$m skipped" "^module $m: skipped \(already ran for this instance\)" \
        "$(module_line "$m")"
    fi
  done

  # Issue 16: update-ca-certificates takes tens of seconds under TCG, so
  # ca_certs is a final-stage row, off sshd's path (it was init's).
  expect_eq "ca_certs is in the final stage, off sshd's path" final \
    "$(status_json '",".join(sorted(set(s for s, v in d["stages"].items() for m in v["modules"] if m["name"] == "ca_certs")))')"

  # timezone: Europe/Berlin, as timedatectl (systemd-timedated) reads it.
  expect_eq "timedatectl: time zone Europe/Berlin" Europe/Berlin \
    "$(cat "$REPORT/commands/timezone.out")"
  expect_eq "/etc/localtime links to ../usr/share/zoneinfo/Europe/Berlin" \
    ../usr/share/zoneinfo/Europe/Berlin "$(cat "$REPORT/commands/localtime-link.out")"
  expect_file_match "/etc/timezone says Europe/Berlin" /etc/timezone "^Europe/Berlin$"

  # ca_certs: the run's test CA is in the system bundle, and the guest's
  # openssl trusts a certificate it signed (run.sh put that one in the image).
  expect_file_has_text "the CA bundle holds the test CA" /etc/ssl/certs/ca-certificates.crt \
    "$E2E_RUN_DIR/e2e-ca.pem"
  expect_eq "openssl in the guest trusts a certificate the test CA signed" \
    "/usr/local/share/amiboot-e2e/leaf.pem: OK" "$(cat "$REPORT/commands/ca-leaf-verify.out")"

  # chpasswd: admin's shadow entry holds the hash, not expired (expire: false).
  local shadow hash
  shadow=$(cat "$REPORT/commands/shadow-admin.out")
  hash=$(cat "$E2E_RUN_DIR/admin-password.hash")
  expect_eq "admin's shadow entry holds the chpasswd hash" "$hash" "$(cut -d: -f2 <<<"$shadow")"
  expect_match "admin's password is not expired (last change is not day 0)" "^[1-9][0-9]*$" \
    "$(cut -d: -f3 <<<"$shadow")"
  # Secrets stay out of the journal, the console and the status.
  expect_not_in_files "the password hash is in no log or status" "$hash" \
    "$REPORT/journal-all.txt" "$REPORT/../console.log" "$REPORT/status.json" \
    "$REPORT/status-long.txt"
}

# given_host_key: "TYPE BASE64" of the key pair host-keys.yaml gives.
given_host_key() {
  # shellcheck disable=SC2154 # E2E_HOST_KEY: run.sh's make_run_material
  awk '{print $1, $2}' "$E2E_HOST_KEY.pub" 2>/dev/null
}

# keyscan_keys: "TYPE BASE64" of each key `ssh-keyscan -t ed25519` got this boot.
keyscan_keys() {
  grep -v '^#' "$REPORT/../host/keyscan-ed25519" 2>/dev/null | awk '{print $2, $3}'
}

# check_given_host_key: sshd offers exactly the host key given in
# host-keys.yaml, and nothing else is left in /etc/ssh (ssh_keys: the image's
# keys deleted, none generated).
check_given_host_key() {
  local given
  given=$(given_host_key)
  expect_ne "the run made a host key pair" "" "$given"
  expect_eq "ssh-keyscan -t ed25519 sees exactly the given host key" "$given" "$(keyscan_keys)"
  expect_eq "ssh with only the given host key in known_hosts (strict): exit 0" 0 \
    "$(host_file given.rc)"
  expect_eq "the guest's ssh_host_ed25519_key.pub is the given key" "$given" \
    "$(awk '{print $1, $2}' "$(guest_file /etc/ssh/ssh_host_ed25519_key.pub)" 2>/dev/null)"
  expect_eq "/etc/ssh holds the given pair only (0600 and 0644 root)" \
    "ssh_host_ed25519_key 600 root root|ssh_host_ed25519_key.pub 644 root root" \
    "$(paste -sd'|' "$REPORT/commands/host-key-files.out")"
  expect_not_in_files "the given private key is in no log or status" \
    "$(sed -n 5p "$E2E_HOST_KEY")" "$REPORT/journal-all.txt" "$REPORT/../console.log" \
    "$REPORT/status.json" "$REPORT/status-long.txt"
}

# --- issue 16: login path and host keys ------------------------------------------

# Issue 16's targets for the time from network-online.target to sshd
# started (ssh.service's ExecMainStartTimestamp): at most 2.5 s on boot 1,
# 0.5 s on boot 2. They do not hold yet: with the RSA key and ca_certs in the
# final stage, boot 1's login path is still held by the init stage's other
# modules (users, firewall, growpart, volumes, bootcmd: about 6 s under TCG)
# and boot 2's by the per-boot ones and the process start, so the
# figures are printed every run and asserted only with
# AMIBOOT_E2E_ASSERT_SSH_START=1 until issue 16 is resolved. Boot 2 keeps
# the example's bootcmd, which cloud-init and amiboot run before sshd on
# every boot: sshd waits for amiboot there. Boot 8 is the same-instance
# reboot without per-boot login work, where amiboot-login-generator lets
# sshd start without waiting; its figure is printed (and asserted with the
# same switch) against the same 0.5 s.
E2E_ASSERT_SSH_START=${AMIBOOT_E2E_ASSERT_SSH_START:-0}

# ssh_start_seconds: network-online.target active -> sshd started, in
# seconds with two decimals (guest monotonic clock), or "n/a".
ssh_start_seconds() {
  local net ssh
  net=$(unit_prop network-online.target ActiveEnterTimestampMonotonic)
  ssh=$(unit_prop ssh.service ExecMainStartTimestampMonotonic)
  if [ -z "$net" ] || [ -z "$ssh" ] || [ "$net" = 0 ] || [ "$ssh" = 0 ]; then
    echo n/a
  else
    awk -v a="$net" -v b="$ssh" 'BEGIN { printf "%.2f", (b - a) / 1e6 }'
  fi
}

# check_ssh_start_time LIMIT_SECONDS (issue 16)
check_ssh_start_time() {
  local s
  s=$(ssh_start_seconds)
  if [ "$E2E_ASSERT_SSH_START" != 1 ]; then
    echo "  skip  network-online -> ssh.service started <= $1 s: $s s (not asserted: AMIBOOT_E2E_ASSERT_SSH_START=0)"
  elif [ "$s" != n/a ] && awk -v s="$s" -v l="$1" 'BEGIN { exit !(s <= l) }'; then
    e2e_pass "network-online -> ssh.service started: $s s <= $1 s"
  else
    e2e_fail "network-online -> ssh.service started: $s s, more than $1 s (issue 16)"
  fi
}

# console_key_types: the key types (ED25519, ECDSA, RSA) of the fingerprint
# block(s) on this boot's serial console, sorted, space-separated.
console_key_types() {
  awk '/-----BEGIN SSH HOST KEY FINGERPRINTS-----/,/-----END SSH HOST KEY FINGERPRINTS-----/' \
    "$REPORT/../console.log" 2>/dev/null | tr -d '\r' |
    sed -n 's/.*(\([A-Z0-9]*\))$/\1/p' | sort -u | paste -sd' '
}

# guest_key_types: the types of the guest's /etc/ssh/ssh_host_*_key.pub.
guest_key_types() {
  awk '{print $NF}' "$REPORT/commands/host-key-fingerprints.out" 2>/dev/null | tr -d '()' |
    sort -u | paste -sd' '
}

# check_host_keys_on_console EXPECTED_TYPES: the guest's host key types are
# EXPECTED_TYPES, and every one is on the console by the end of the boot
# (the report is made after amiboot-final).
check_host_keys_on_console() {
  expect_eq "host key types in /etc/ssh" "$1" "$(guest_key_types)"
  expect_eq "every host key type on the console" "$1" "$(console_key_types)"
}

# boot_timings N: the lines the run prints for boot N at the end (issue 16).
boot_timings() {
  local n=$1 rec
  echo "e2e: boot $n: network-online -> ssh.service started: $(ssh_start_seconds) s"
  if [ "$(console_markers)" -gt 0 ]; then
    echo "e2e: boot $n: host key types on console: $(console_key_types)"
  fi
  rec=$REPORT/commands/boot-record-init.out
  if [ -s "$rec" ]; then
    python3 - "$n" "$rec" <<'EOF' || true
import json, sys
try:
    d = json.load(open(sys.argv[2]))
    print("e2e: boot %s: metadata: %s requests in %.0f ms" % (sys.argv[1], d["imds_requests"], d["imds_ms"]))
    # The rows that did something: duration@start in ms from the stage's
    # start, "*" for a row applied in a lane.
    rows = ["%s %d@%d%s" % (m["name"], m["duration_ms"], m["start_ms"], "*" if m.get("concurrent") else "")
            for m in d["modules"] if m["result"] != "skipped" or m["duration_ms"] >= 5]
    print("e2e: boot %s: init rows: %s; stage %d ms" % (sys.argv[1], ", ".join(rows), d["duration_ms"]))
except (ValueError, KeyError, TypeError):
    pass
EOF
  fi
  # The init stage's lanes decided by plan: which rows ran beside which.
  if [ "$n" = 1 ] && [ -s "$REPORT/journal-u-amiboot.txt" ]; then
    grep -E '^[a-z_]+: (waits for|applied beside|follows|does not follow|applied in sequence|planned in its lane|planned at its row)' \
      "$REPORT/journal-u-amiboot.txt" | sed "s/^/e2e: boot $n: lane: /" || true
  fi
  if [ "$n" = 1 ]; then
    local net start init fstart final ssh
    net=$(unit_prop network-online.target ActiveEnterTimestampMonotonic)
    start=$(unit_prop amiboot.service InactiveExitTimestampMonotonic)
    init=$(unit_prop amiboot.service ActiveEnterTimestampMonotonic)
    fstart=$(unit_prop amiboot-final.service InactiveExitTimestampMonotonic)
    final=$(unit_prop amiboot-final.service ActiveEnterTimestampMonotonic)
    ssh=$(unit_prop ssh.service InactiveExitTimestampMonotonic)
    echo "  boot 1: network-online.target -> amiboot.service active:       $(ms_between "$net" "$init") ms"
    echo "  boot 1: network-online.target -> amiboot-final.service active: $(ms_between "$net" "$final") ms"
    echo "  boot 1: amiboot.service start -> active (init stage):          $(ms_between "$start" "$init") ms"
    echo "  boot 1: amiboot-final.service start -> active (final stage):   $(ms_between "$fstart" "$final") ms"
    echo "  boot 1: amiboot.service active -> ssh.service start:           $(ms_between "$init" "$ssh") ms"
  fi
}

# --- per boot -----------------------------------------------------------------

# The amiboot-cloud-init-compat package on boot 1: the cloud-init command,
# cloud-init's files and the unit aliases, as tooling uses them.
check_cloud_init_compat() {
  local out
  out=$(cat "$REPORT/commands/cloud-init-status.out")
  expect_eq "cloud-init status --wait --long exits 0" 0 "$(cat "$REPORT/commands/cloud-init-status.rc")"
  expect_match "cloud-init status: done" "^status: done$" "$out"
  expect_match "cloud-init status: extended_status done" "^extended_status: done$" "$out"
  expect_match "cloud-init status: boot_status_code" "^boot_status_code: enabled-by-generator$" "$out"
  expect_match "cloud-init status: detail names the datasource" "^detail: DataSourceEc2$" "$out"
  expect_match "cloud-init status: no errors" "^errors: \[\]$" "$out"
  expect_match "cloud-init status: the module list" "^	- final/scripts_user: ok" "$out"
  expect_file_match "boot-finished after the final stage" /var/lib/cloud/instance/boot-finished \
    "^[0-9.]+ - .* - v\. "
  expect_file_match "result.json with no errors" /run/cloud-init/result.json '"errors": \[\]'
  expect_file_match "cloud-init-output.log holds the user script's output" \
    /var/log/cloud-init-output.log "^hello from the example script$"
  expect_eq "cloud-init-output.log is 0640 root:adm" "640 root adm" \
    "$(file_stat /var/log/cloud-init-output.log mode) $(file_stat /var/log/cloud-init-output.log user) $(file_stat /var/log/cloud-init-output.log group)"
  expect_eq "cloud-final.service is amiboot-final.service" "amiboot-final.service" \
    "$(unit_prop cloud-final.service Id)"
  expect_lt "a unit After=cloud-final.service starts after amiboot-final is active" \
    "$(unit_prop amiboot-final.service ActiveEnterTimestampMonotonic)" \
    "$(unit_prop amiboot-e2e-after-cloud-final.service InactiveExitTimestampMonotonic)"
  expect_file_match "boot-finished was there when that unit started" \
    /run/amiboot-e2e-after-cloud-final "^yes$"
}

# module_ms NAME: the module's duration in status.json (either stage).
module_ms() {
  status_json "[m for s in d['stages'].values() for m in s['modules'] if m['name'] == '$1'][0]['duration_ms']"
}

# check_root_grown (boot 1): the disk file was enlarged by 1 GiB before the
# boot; growpart grew partition 1 to the end of the disk and resize2fs the
# mounted root filesystem. The GPT on the disk file is checked here on the
# host: valid, partition 1 up to the last usable sector.
check_root_grown() {
  expect_match "growpart module ok" "^module growpart: ok" "$(module_line growpart)"
  expect_match "journal: partition 1 grown, the sizes before and after" \
    "grew partition 1 of /dev/vda \(gpt\) from [0-9]+ to [0-9]+ sectors \(2\.0 GiB to 3\.0 GiB\).*the kernel uses the new size" \
    "$(cat "$REPORT/journal-u-amiboot.txt")"
  expect_match "journal: resize2fs on the mounted root" "resize2fs /dev/vda1" \
    "$(cat "$REPORT/journal-u-amiboot.txt")"
  expect_match "status --long: what grew" "/: vda1 grown from 2\.0 GiB to 3\.0 GiB, ext4 grown online" \
    "$(cat "$REPORT/status-long.txt")"
  BOOT1_ROOT_FS_BYTES=$(cat "$REPORT/commands/root-fs-bytes.out")
  # The partition is the disk less its first MiB and the backup GPT (with
  # sfdisk's alignment, under 2 MiB in all); df counts the blocks ext4 can
  # hand out, a little less than the partition.
  expect_lt "vda1 is within 2 MiB of the disk's size" \
    "$((${BOOT1_DISK_BYTES:-0} - 2 * 1048576))" "$(cat "$REPORT/commands/root-part-bytes.out")"
  expect_lt "df /: the root filesystem grew past 2.8 GiB" \
    "$((28 * 1073741824 / 10))" "${BOOT1_ROOT_FS_BYTES:-0}"
  local table
  # shellcheck disable=SC2154 # work: run.sh's working folder
  expect_match "sfdisk --verify on the disk file: no errors" "No errors detected" \
    "$(sfdisk --verify "$work/disk.img" 2>&1)"
  table=$(sfdisk -J "$work/disk.img" 2>&1)
  expect_eq "partition 1 ends at the GPT's last usable sector" \
    "$(python3 -c 'import json,sys; t=json.load(sys.stdin)["partitiontable"]; print(t["lastlba"])' <<<"$table")" \
    "$(python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"][0]; print(p["start"] + p["size"] - 1)' <<<"$table")"
}

# check_volume_not_attached (boot 3): the mapping lists ephemeral1 (sdc),
# whose disk is not attached. The volumes module waited once, up to its
# bound (30 s), warned, and did the rest of its work; the entry is pending
# for the next boot. The wait was in its lane: users did not wait for it.
check_volume_not_attached() {
  expect_match "volumes module ok" "^module volumes: ok" "$(module_line volumes)"
  local ms
  ms=$(module_ms volumes)
  expect_lt "volumes: waited the 30 s bound" 29000 "${ms:-0}"
  expect_lt "volumes: held the boot no longer than the bound (+ 10 s)" "${ms:-999999}" 40000
  # Planned in its own lane: the rows after it did not wait for the device.
  expect_match "volumes was planned in its lane" "^volumes: planned in its lane" \
    "$(cat "$REPORT/journal-u-amiboot.txt")"
  local users_end
  users_end=$(status_json "[m['start_ms'] + m['duration_ms'] for m in d['stages']['init']['modules'] if m['name'] == 'users'][0]")
  expect_lt "users was done before the wait for the device was over" "${users_end:-999999}" 29000
  expect_match "status --long: the wait and the volume not attached" \
    "waited 3[0-9]\.[0-9] s for devices \(at most 30 s\); not attached: ephemeral1" \
    "$(cat "$REPORT/status-long.txt")"
  expect_match "a warning names ephemeral1" "ephemeral1" "$(status_json 'd["warnings"]')"
  expect_match "pending for the next boot" "volumes-pending\.json" \
    "$(cat "$REPORT/commands/state-listing.out")"
  expect_eq "/data is not mounted" "" "$(cat "$REPORT/commands/data-findmnt.out")"
  expect_no_match "fstab: no /data line yet" "[[:space:]]/data[[:space:]]" \
    "$(cat "$REPORT/commands/fstab.out")"
}

# --- issue 16: the firewall before the network, and the login order ---------

# check_early_firewall: a reboot of an instance with a firewall (boot 2).
# amiboot-firewall.service put the last boot's ruleset in force before
# network-pre.target, before systemd-networkd brought any interface up
# (amiboot-e2e-early-nft.service listed the table then), and the init stage
# found the same bytes and did not apply them again.
check_early_firewall() {
  expect_eq "amiboot-firewall ran: a ruleset was kept" yes \
    "$(unit_prop amiboot-firewall.service ConditionResult)"
  expect_eq "amiboot-firewall: result success" success "$(unit_prop amiboot-firewall.service Result)"
  expect_lt "amiboot-firewall active before network-pre.target" \
    "$(unit_prop amiboot-firewall.service ActiveEnterTimestampMonotonic)" \
    "$(unit_prop network-pre.target ActiveEnterTimestampMonotonic)"
  expect_lt "amiboot-firewall active before systemd-networkd starts" \
    "$(unit_prop amiboot-firewall.service ActiveEnterTimestampMonotonic)" \
    "$(unit_prop systemd-networkd.service InactiveExitTimestampMonotonic)"
  local early
  early=$(cat "$(guest_file /run/amiboot-e2e-early-nft)" 2>/dev/null)
  expect_match "before the network: table inet amiboot in force" "^table inet amiboot \{" "$early"
  expect_match "before the network: port 8080 allowed, default drop" \
    "tcp dport 8080 accept" "$early"
  expect_no_match "before the network: no interface but lo is up" \
    "^[0-9]+: (en|eth)[^:]*:" "$early"
  expect_eq "the init stage's ruleset is the one applied before the network" \
    "$(cat "$(guest_file /run/amiboot/firewall.nft)" 2>/dev/null)" \
    "$(cat "$(guest_file /run/amiboot/firewall-early.nft)" 2>/dev/null)"
  expect_match "firewall module: no second nft call" \
    "in force since before the network was up" \
    "$(status_json '[m.get("summary", "") for m in d["stages"]["init"]["modules"] if m["name"] == "firewall"][0]')"
}

# check_login_order held|free INSTANCE: the board's asset tag is INSTANCE
# (QEMU's -smbios type=2, as EC2 Nitro), and amiboot-login-generator did
# (held) or did not (free) order ssh.service, sshd.service and
# systemd-user-sessions.service after amiboot.service this boot.
check_login_order() {
  local want=$1 id=$2 unit conf
  expect_eq "DMI board asset tag is the instance id" "$id" \
    "$(cat "$REPORT/commands/dmi-asset-tag.out" 2>/dev/null)"
  for unit in ssh.service systemd-user-sessions.service; do
    conf=/run/systemd/generator/$unit.d/50-amiboot-login.conf
    if [ "$want" = held ]; then
      expect_file_match "generator drop-in for $unit" "$conf" "^After=amiboot\.service$"
      expect_match "$unit is ordered after amiboot.service" "(^| )amiboot\.service( |$)" \
        "$(unit_prop "$unit" After)"
    else
      expect_eq "no generator drop-in for $unit" "" \
        "$(ls "$(guest_file "$conf")" 2>/dev/null)"
      expect_no_match "$unit is not ordered after amiboot.service" "(^| )amiboot\.service( |$)" \
        "$(unit_prop "$unit" After)"
    fi
  done
}

check_boot_1() {
  check_common "$E2E_INSTANCE_1"
  expect_match "a new instance" "^new instance $E2E_INSTANCE_1" "$(journal)"
  check_cloud_init_compat

  # write_files (init stage) and the deferred one (final stage).
  expect_file_match "write_files: motd" /etc/motd.d/50-amiboot-example "Configured by amiboot"
  expect_file_match "write_files: b64 content decoded" /etc/example/app.env "^APP_MODE=production$"
  expect_eq "write_files: permissions 0600" 600 "$(file_stat /etc/example/app.env mode)"
  expect_file_match "write_files: deferred file" /var/lib/example/ready-for-users "after users exist"
  # bootcmd, runcmd, the user script.
  expect_file_lines "bootcmd ran once this boot" /var/log/amiboot-example-boots.log 1
  # The example's second runcmd item writes into the folder its first cd'd
  # to: the items are one sh script, as in cloud-init.
  expect_file_match "runcmd ran, in the folder its first line cd'd to" /var/tmp/amiboot-runcmd \
    "^runcmd ran for $E2E_INSTANCE_1$"
  expect_file_match "user script ran" /var/tmp/amiboot-script "^user-data script ran for $E2E_INSTANCE_1$"
  expect_match "script output in the journal" "hello from the example script" "$(script_journal)"
  expect_match "scripts_user (runcmd and the scripts) ok" "^module scripts_user: ok" \
    "$(module_line scripts_user)"
  # cloud-init's order: one pass by name, runcmd among the user-data scripts.
  expect_file_match "00-prepare.sh ran" /var/tmp/amiboot-e2e-prepare "^prepared for runcmd$"
  expect_eq "00-prepare.sh, runcmd, script.sh: in name order" \
    "running scripts 00-prepare.sh|running runcmd|running scripts script.sh" \
    "$(grep -oE 'running (scripts 00-prepare.sh|runcmd|scripts script.sh)' \
      "$REPORT/journal-u-amiboot-final.txt" | paste -sd'|')"
  expect_match "final message on stdout (console and journal)" \
    "example instance $E2E_INSTANCE_1 is ready" "$(cat "$REPORT/journal-u-amiboot-final.txt")"

  # Packages: installed from the image's local repository after one index
  # update (its lists were empty); apt-get's output in the journal under the
  # module's fields.
  expect_match "packages module ok" "^module packages: ok" "$(module_line packages)"
  expect_eq "amiboot-e2e-hello installed" "install ok installed 1.0" \
    "$(cat "$REPORT/commands/package-hello.out")"
  expect_match "apt-get output in the journal with AMIBOOT_MODULE=packages" \
    "Setting up amiboot-e2e-hello \(1\.0\)" "$(cat "$REPORT/commands/package-journal.out")"
  # apt_configure added the signed repository the user data names (deb822 on
  # Debian 12, its key in /etc/apt/keyrings, signed-by, not trusted for
  # every repository) and updated the index, so the packages install found
  # fresh lists and installed on its first try.
  expect_match "apt_configure module ok" "^module apt_configure: ok" "$(module_line apt_configure)"
  expect_eq "vendor source: deb822, signed by its own key" \
    "Types: deb|URIs: file:/var/local/amiboot-e2e-vendor|Suites: ./|Signed-By: /etc/apt/keyrings/amiboot-e2e-vendor.asc" \
    "$(grep -v '^#' "$REPORT/commands/vendor-sources.out" | grep . | paste -sd'|')"
  expect_eq "vendor key in /etc/apt/keyrings" "-----BEGIN PGP PUBLIC KEY BLOCK-----" \
    "$(cat "$REPORT/commands/vendor-keyring.out")"
  # (trusted.gpg.d holds Debian's own archive keys; none of amiboot's.)
  expect_no_match "vendor key not in apt's global trust" "amiboot" \
    "$(cat "$REPORT/commands/apt-trusted.out")"
  expect_match "trusted.gpg.d as debootstrap left it" "debian-archive-$E2E_SUITE-stable\.asc" \
    "$(cat "$REPORT/commands/apt-trusted.out")"
  expect_eq "amiboot-e2e-vendor installed from the signed repository" "install ok installed 1.0" \
    "$(cat "$REPORT/commands/package-vendor.out")"
  expect_no_match "fresh lists: no second update before the install" \
    "updating the package index and trying again" "$(cat "$REPORT/journal-u-amiboot-final.txt")"

  # Volumes: ephemeral0 -> sdb in the fake's block-device-mapping is the
  # blank second disk (/dev/vdb): formatted, mounted at /mnt, in fstab by UUID.
  expect_match "volumes module ok" "^module volumes: ok" "$(module_line volumes)"
  BOOT1_VDB_UUID=$(cat "$REPORT/commands/vdb-uuid.out")
  expect_ne "the second disk got a filesystem" "" "$BOOT1_VDB_UUID"
  expect_eq "/mnt is the second disk" "/dev/vdb ext4 $BOOT1_VDB_UUID" \
    "$(tr -s ' ' <"$REPORT/commands/mnt-findmnt.out")"
  expect_match "fstab entry by UUID with nofail" "^UUID=${BOOT1_VDB_UUID}[[:space:]]+/mnt[[:space:]].*nofail" \
    "$(cat "$REPORT/commands/fstab.out")"
  BOOT1_ID=$(cat "$REPORT/boot_id")
  expect_eq "a file written on /mnt" "$BOOT1_ID" "$(cat "$REPORT/commands/mnt-file.out")"
  BOOT1_FSTAB=$(cat "$REPORT/commands/fstab.out")

  check_root_grown

  # Users: the default user exists; host keys were made for this instance
  # and their fingerprints are on the console between cloud-init's markers.
  expect_match "default user admin" "^admin:x:" "$(cat "$REPORT/commands/passwd-admin.out")"
  expect_match "users module ok" "^module users: ok" "$(module_line users)"
  expect_match "ssh_host_keys module ok" "^module ssh_host_keys: ok" "$(module_line ssh_host_keys)"
  # (in the init stage's journal today; in the final stage's once host keys
  # move there, branch wt-16)
  expect_match "fingerprints on the console" "BEGIN SSH HOST KEY FINGERPRINTS" \
    "$(cat "$REPORT/journal-u-amiboot.txt" "$REPORT/journal-u-amiboot-final.txt")"
  BOOT1_FINGERPRINTS=$(cat "$REPORT/commands/host-key-fingerprints.out")

  # Logins: the IMDS key works for admin, who has sudo; root gets
  # cloud-init's disable_root answer. The host key ssh saw is one the guest
  # made, and its fingerprint is on the serial console.
  check_ssh_login
  expect_eq "admin has passwordless sudo" sudo-ok "$(host_file ssh.out | sed -n 2p)"
  expect_match "sshd logged the publickey login" "Accepted publickey for admin" \
    "$(cat "$REPORT/journal-all.txt")"
  expect_eq "ssh as root: exit 142" 142 "$(host_file root.rc)"
  expect_match "ssh as root: told to log in as admin" \
    'Please login as the user "admin" rather than the user "root"' "$(host_file root.out)"
  local seen
  seen=$(host_seen_fingerprint)
  expect_ne "ssh recorded a host key" "" "$seen"
  expect_contains "the host key ssh saw is one of the guest's" "$seen" \
    "$(cat "$REPORT/commands/host-key-fingerprints.out")"
  expect_eq "serial console: one fingerprint block" 1 "$(console_markers)"
  expect_contains "serial console: the fingerprint ssh saw" "$seen" \
    "$(cat "$REPORT/../console.log" 2>/dev/null)"
  # That key is the one host-keys.yaml gives.
  expect_eq "the host key ssh saw is the given one" \
    "$(ssh-keygen -l -f "$E2E_HOST_KEY.pub" 2>/dev/null | awk '{print $2}')" "$seen"
  check_given_host_key
  check_first_boot_setup yes
  # Issue 16: the given key's type is the only one (no generation when keys
  # are given, as cloud-init), on the console by the end of the boot; the
  # login path.
  check_host_keys_on_console ED25519
  check_ssh_start_time 2.5
  check_one_command

  check_firewall

  # The Jinja template part (tests/e2e/template.sh) rendered with the fake
  # IMDS's instance id and zone and ran; the per-boot part ran this boot.
  expect_file_match "template part rendered: instance id and zone" /var/tmp/amiboot-e2e-template \
    "^$E2E_INSTANCE_1 us-east-1a$"
  expect_file_lines "template part ran once" /var/tmp/amiboot-e2e-template 1
  expect_match "scripts_per_boot ok" "^module scripts_per_boot: ok" "$(module_line scripts_per_boot)"
  expect_file_lines "per-boot part ran once" /var/tmp/amiboot-e2e-per-boot 1
  expect_eq "per-boot part wrote this boot's id" "$BOOT1_ID" \
    "$(tail -n 1 "$(guest_file /var/tmp/amiboot-e2e-per-boot)" 2>/dev/null)"

  # Issue 16: nothing kept yet, so nothing applied before the network; the
  # first boot of an instance holds logins.
  expect_eq "amiboot-firewall skipped: no ruleset kept before the first boot" no \
    "$(unit_prop amiboot-firewall.service ConditionResult)"
  check_login_order held "$E2E_INSTANCE_1"

  # Kept for boot 2: per-instance output must not change.
  BOOT1_TEMPLATE_MTIME=$(file_stat /var/tmp/amiboot-e2e-template mtime)
  BOOT1_RUNCMD_MTIME=$(file_stat /var/tmp/amiboot-runcmd mtime)
  BOOT1_SCRIPT_MTIME=$(file_stat /var/tmp/amiboot-script mtime)
}

check_boot_2() {
  check_common "$E2E_INSTANCE_1"
  expect_match "the same instance" "^same instance $E2E_INSTANCE_1" "$(journal)"

  # Per-instance work did not run again...
  expect_match "scripts_user skipped" "^module scripts_user: skipped \(already ran for this instance\)" \
    "$(module_line scripts_user)"
  expect_match "write_files skipped" "^module write_files: skipped \(already ran for this instance\)" \
    "$(module_line write_files)"
  expect_match "packages skipped" "^module packages: skipped \(already ran for this instance\)" \
    "$(module_line packages)"
  expect_eq "runcmd output untouched" "${BOOT1_RUNCMD_MTIME:-?}" "$(file_stat /var/tmp/amiboot-runcmd mtime)"
  expect_eq "script output untouched" "${BOOT1_SCRIPT_MTIME:-?}" "$(file_stat /var/tmp/amiboot-script mtime)"
  expect_eq "no script output in the journal" 0 "$(count_lines "$(script_journal)")"
  # ...per-boot work did.
  expect_match "bootcmd ran" "^module bootcmd: ok" "$(module_line bootcmd)"
  expect_file_lines "bootcmd appended a line this boot" /var/log/amiboot-example-boots.log 2
  # The per-boot part ran again; the template part (per instance) did not.
  expect_file_lines "per-boot part ran again: two lines" /var/tmp/amiboot-e2e-per-boot 2
  expect_eq "per-boot part's new line is this boot's id" "$(cat "$REPORT/boot_id")" \
    "$(tail -n 1 "$(guest_file /var/tmp/amiboot-e2e-per-boot)" 2>/dev/null)"
  expect_file_lines "template part did not run again: one line" /var/tmp/amiboot-e2e-template 1
  expect_eq "template output untouched" "${BOOT1_TEMPLATE_MTIME:-?}" \
    "$(file_stat /var/tmp/amiboot-e2e-template mtime)"

  # The volume from boot 1 is mounted again and its file read back.
  expect_eq "/mnt is still the second disk" "/dev/vdb ext4 ${BOOT1_VDB_UUID:-?}" \
    "$(tr -s ' ' <"$REPORT/commands/mnt-findmnt.out")"
  expect_eq "the file written on boot 1 is read back" "${BOOT1_ID:-?}" \
    "$(cat "$REPORT/commands/mnt-file.out")"
  expect_eq "fstab unchanged" "${BOOT1_FSTAB:-?}" "$(cat "$REPORT/commands/fstab.out")"
  expect_no_match "no mkfs on boot 2" "mkfs" "$(cat "$REPORT/journal-u-amiboot.txt")"
  # growpart runs every boot; with nothing to gain it does nothing, quickly:
  # no growpart or resize2fs process. Under TCG with a load of 16 on the
  # 2-core host it took 186 ms: the bound is 1 s.
  expect_match "growpart: nothing to do" "^module growpart: skipped \(nothing to do\)" \
    "$(module_line growpart)"
  local ms
  ms=$(module_ms growpart)
  if [[ "$ms" =~ ^[0-9]+$ ]] && [ "$ms" -lt 1000 ]; then
    e2e_pass "growpart with nothing to do: under 1 s ($ms ms)"
  else
    e2e_fail "growpart with nothing to do: under 1 s: '$ms'"
  fi
  expect_no_match "no resize2fs on boot 2" "resize2fs" "$(cat "$REPORT/journal-u-amiboot.txt")"
  expect_eq "the root filesystem keeps boot 1's size" "${BOOT1_ROOT_FS_BYTES:-?}" \
    "$(cat "$REPORT/commands/root-fs-bytes.out")"
  expect_eq "host keys unchanged on the same instance" "${BOOT1_FINGERPRINTS:-?}" \
    "$(cat "$REPORT/commands/host-key-fingerprints.out")"

  # The same host key: boot 1's known_hosts still fits; no new fingerprints
  # on the console. The firewall rules are loaded again (per boot).
  check_ssh_login
  expect_eq "ssh with boot 1's known_hosts (strict): exit 0" 0 "$(host_file prev.rc)"
  expect_eq "serial console: no fingerprint block" 0 "$(console_markers)"
  expect_match "ssh_host_keys skipped" "^module ssh_host_keys: skipped \(already ran for this instance\)" \
    "$(module_line ssh_host_keys)"
  check_given_host_key
  check_first_boot_setup no
  check_firewall
  check_ssh_start_time 0.5
  check_early_firewall
  # bootcmd (the example's) runs before sshd on every boot: still held.
  check_login_order held "$E2E_INSTANCE_1"
}

check_boot_3() {
  check_common "$E2E_INSTANCE_3"
  # A new instance (DMI names it): logins wait for amiboot.
  check_login_order held "$E2E_INSTANCE_3"
  expect_match "a new instance, and the previous one named" \
    "^new instance $E2E_INSTANCE_3 \(was $E2E_INSTANCE_1\)" "$(journal)"

  # Per-instance work runs again for the new instance.
  expect_match "runcmd ran again" "^module scripts_user: ok" "$(module_line scripts_user)"
  expect_match "write_files ran again" "^module write_files: ok" "$(module_line write_files)"
  expect_file_match "runcmd output names the new instance" /var/tmp/amiboot-runcmd \
    "^runcmd ran for $E2E_INSTANCE_3$"
  expect_file_match "user script output names the new instance" /var/tmp/amiboot-script \
    "^user-data script ran for $E2E_INSTANCE_3$"
  expect_file_lines "bootcmd: a line per boot" /var/log/amiboot-example-boots.log 3
  expect_file_match "template part ran for the new instance" /var/tmp/amiboot-e2e-template \
    "^$E2E_INSTANCE_3 us-east-1a$"
  expect_file_lines "per-boot part: a line per boot" /var/tmp/amiboot-e2e-per-boot 3

  # A new instance from the same image gets its own host keys; the volume
  # with data on it is mounted, never formatted again.
  expect_ne "new host keys for the new instance" "${BOOT1_FINGERPRINTS:-?}" \
    "$(cat "$REPORT/commands/host-key-fingerprints.out")"
  expect_match "ssh_host_keys ran again" "^module ssh_host_keys: ok" "$(module_line ssh_host_keys)"
  expect_no_match "no mkfs on boot 3" "mkfs" "$(cat "$REPORT/journal-u-amiboot.txt")"
  expect_eq "the boot-1 file is still on /mnt" "${BOOT1_ID:-?}" "$(cat "$REPORT/commands/mnt-file.out")"
  check_volume_not_attached

  # ssh sees the new host key: the previous boot's known_hosts is refused,
  # a fresh one works; the new fingerprints are on the console.
  check_ssh_login
  expect_ne "ssh with boot 2's known_hosts (strict) fails" 0 "$(host_file prev.rc)"
  expect_match "ssh says the host key changed" "REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed" \
    "$(host_file prev.err)"
  expect_eq "ssh with a fresh known_hosts (strict): exit 0" 0 "$(host_file fresh.rc)"
  local seen
  seen=$(host_seen_fingerprint)
  expect_contains "the new host key ssh saw is one of the guest's" "$seen" \
    "$(cat "$REPORT/commands/host-key-fingerprints.out")"
  expect_eq "serial console: one fingerprint block" 1 "$(console_markers)"
  expect_contains "serial console: the new fingerprint ssh saw" "$seen" \
    "$(cat "$REPORT/../console.log" 2>/dev/null)"

  # Launched without host-keys.yaml: the given pair is gone with the old
  # instance (ssh_deletekeys), keys of every default type were generated.
  local given scanned
  given=$(given_host_key)
  scanned=$(keyscan_keys)
  expect_ne "ssh-keyscan -t ed25519 got a key" "" "$scanned"
  expect_ne "ssh-keyscan: not the given key any more" "$given" "$scanned"
  expect_eq "ssh-keyscan: the guest's new ed25519 key" \
    "$(awk '{print $1, $2}' "$(guest_file /etc/ssh/ssh_host_ed25519_key.pub)" 2>/dev/null)" "$scanned"
  expect_ne "ssh with only the given host key in known_hosts (strict) fails" 0 \
    "$(host_file given.rc)"
  expect_eq "generated keys: rsa, ecdsa, ed25519" "ssh_host_ecdsa_key ssh_host_ed25519_key ssh_host_rsa_key" \
    "$(awk '$1 !~ /\.pub$/ {print $1}' "$REPORT/commands/host-key-files.out" | sort | paste -sd' ')"
  # Issue 16: the first boot of an instance that generates its keys: every
  # type exists and is on the console by the end of the boot.
  check_host_keys_on_console "ECDSA ED25519 RSA"
  check_first_boot_setup yes
  check_firewall
}

check_boot_4() {
  # bootcmd fails this boot (failing-bootcmd.yaml): amiboot.service fails.
  E2E_FAILED_UNITS="amiboot.service"
  check_common "$E2E_INSTANCE_3" bootcmd
  expect_match "the failing bootcmd ran after the example's" "amiboot-e2e-bootcmd-fails" \
    "$(cat "$REPORT/journal-u-amiboot.txt")"
  expect_match "bootcmd's failure is its script's status (the last command's)" \
    "^module bootcmd: failed .*bootcmd exited with status 3" "$(module_line bootcmd)"
  expect_file_lines "the example's bootcmd still wrote its line" /var/log/amiboot-example-boots.log 4
  expect_match "the same instance" "^same instance $E2E_INSTANCE_3" "$(journal)"
  expect_match "scripts_user skipped" "^module scripts_user: skipped \(already ran for this instance\)" \
    "$(module_line scripts_user)"
  expect_match "volumes skipped (per instance)" \
    "^module volumes: skipped \(already ran for this instance\)" "$(module_line volumes)"

  # ephemeral1's disk is attached now: the mounts module (every boot) takes
  # up what boot 3 left pending: blank, so formatted, then mounted at /data
  # and written to fstab. Nothing is pending any more, no warning is left.
  expect_eq "ephemeral1 is the disk attached this boot" vol0late \
    "$(cat "$REPORT/commands/vdc-serial.out")"
  expect_match "mounts module ok" "^module mounts: ok" "$(module_line mounts)"
  expect_match "the late volume got a filesystem" "mkfs\.ext4 .*/dev/vdc" \
    "$(cat "$REPORT/journal-u-amiboot.txt")"
  expect_eq "with fs_setup's label" late "$(cat "$REPORT/commands/vdc-label.out")"
  expect_eq "/data is the late volume" "/dev/vdc ext4" \
    "$(tr -s ' ' <"$REPORT/commands/data-findmnt.out")"
  expect_match "fstab: /data by UUID" "^UUID=[0-9a-f-]+[[:space:]]+/data[[:space:]]" \
    "$(cat "$REPORT/commands/fstab.out")"
  expect_match "fstab: /mnt kept" "^UUID=${BOOT1_VDB_UUID:-?}[[:space:]]+/mnt[[:space:]]" \
    "$(cat "$REPORT/commands/fstab.out")"
  expect_no_match "nothing pending for the instance" "volumes-pending\.json" \
    "$(cat "$REPORT/commands/state-listing.out")"
  expect_eq "no warning names ephemeral1" "[]" \
    "$(status_json '[w for w in d["warnings"] if "ephemeral1" in w]')"
  expect_eq "the boot-1 file is still on /mnt" "${BOOT1_ID:-?}" "$(cat "$REPORT/commands/mnt-file.out")"
  check_ssh_login
  expect_eq "ssh with boot 3's known_hosts (strict): exit 0" 0 "$(host_file prev.rc)"
}

check_boot_5() {
  # amiboot=disabled on the kernel command line: both units are skipped by
  # their conditions, the boot goes on, logins start.
  local unit
  for unit in amiboot.service amiboot-final.service; do
    expect_eq "$unit skipped by its condition" "no" "$(unit_prop "$unit" ConditionResult)"
    expect_eq "$unit did not run" "inactive" "$(unit_prop "$unit" ActiveState)"
  done
  expect_eq "ssh.service still starts" "active" "$(unit_prop ssh.service ActiveState)"
  expect_eq "no amiboot journal entries" 0 "$(count_lines "$(journal)")"
  expect_eq "amiboot status exits 3 (disabled)" 3 "$(cat "$REPORT/status.rc")"
  expect_match "amiboot status says disabled" "^status: disabled" "$(cat "$REPORT/status.txt")"
  expect_file_lines "bootcmd did not run" /var/log/amiboot-example-boots.log 4
  expect_eq "no failed units" "" "$(cat "$REPORT/commands/failed-units.out")"

  # Logins still work with what boots 3 and 4 set up; without amiboot no firewall
  # rules are loaded (kernel rules do not survive a reboot): 8081 answers.
  check_ssh_login
  expect_eq "ssh with boot 4's known_hosts (strict): exit 0" 0 "$(host_file prev.rc)"
  expect_match "no amiboot firewall: port 8081 answers the host" "^amiboot-e2e-open 8081" \
    "$(host_file probe-8081)"
  # What boots 3 and 4 set up stays without amiboot.
  expect_eq "the time zone is still Europe/Berlin" Europe/Berlin \
    "$(cat "$REPORT/commands/timezone.out")"
}

check_boot_6() {
  local console=$REPORT/../console.log disk=$E2E_ROOT_FS
  # The order on the console: the final stage finished (final message), then
  # amiboot's reboot, then the kernel restarting (not powering off).
  local finished rebooting restarting
  finished=$(grep -n -m1 "amiboot .* finished at " "$console" | cut -d: -f1)
  rebooting=$(grep -n -m1 "amiboot: rebooting: the installed packages require it" "$console" | cut -d: -f1)
  restarting=$(grep -n -m1 "reboot: Restarting system" "$console" | cut -d: -f1)
  expect_ne "console: the final stage finished" "" "$finished"
  expect_ne "console: amiboot says it reboots" "" "$rebooting"
  expect_ne "console: the kernel restarted the machine" "" "$restarting"
  expect_lt "the final stage finished before amiboot rebooted" "$finished" "$rebooting"
  expect_lt "amiboot rebooted before the kernel restarted" "$rebooting" "$restarting"
  expect_no_match "the guest did not power off" "reboot: Power down" "$(cat "$console")"
  # On the disk: the package is installed and the packages semaphore of this
  # instance was written before the reboot (the next boot will not install
  # again).
  expect_match "amiboot-e2e-reboot installed" "^Status: install ok installed" \
    "$(debugfs -R "cat /var/lib/dpkg/status" "$disk" 2>/dev/null |
      grep -A1 '^Package: amiboot-e2e-reboot$' | tail -n 1)"
  expect_match "packages semaphore on disk" "Inode:" \
    "$(debugfs -R "stat /var/lib/amiboot/instances/$E2E_INSTANCE_6/sem/packages" "$disk" 2>/dev/null)"
}

check_boot_7() {
  local console=$REPORT/../console.log
  # The agent read the user data without warnings (power_state is its own
  # module now, not "no module").
  expect_eq "amiboot validate: power-state.yaml valid, no warnings" "[true, []]" \
    "$(python3 "$E2E_DIR/report.py" json "$work/validate-boot-7.json" '[d["valid"], d["warnings"]]' 2>&1)"

  # The report came from the shutdown the guest started by itself: the usual
  # report service (which powers off) was skipped by its condition.
  expect_eq "the report was made during the shutdown" shutdown "$(cat "$REPORT/mode")"
  expect_eq "the system was stopping when the report ran" stopping \
    "$(cat "$REPORT/commands/system-state.out")"
  expect_eq "amiboot-e2e-report.service (the one that powers off) skipped" no \
    "$(unit_prop amiboot-e2e-report.service ConditionResult)"

  # Both stages ran to their end before the shutdown: amiboot-final was
  # active (its process exited 0, not killed by the shutdown) before the
  # shutdown began to stop units.
  local unit
  for unit in amiboot.service amiboot-final.service; do
    expect_eq "$unit: result success" success "$(unit_prop "$unit" Result)"
    expect_eq "$unit: exit status 0" 0 "$(unit_prop "$unit" ExecMainStatus)"
  done
  expect_lt "amiboot-final.service active before the shutdown began" \
    "$(unit_prop amiboot-final.service ActiveEnterTimestampMonotonic)" \
    "$(unit_prop amiboot-e2e-report-at-shutdown.service ActiveExitTimestampMonotonic)"
  expect_match "a new instance" "^new instance $E2E_INSTANCE_7" "$(journal)"
  expect_match "final stage finished: done" "stage finished: done" \
    "$(journal MESSAGE_ID=$MSGID_FINISHED AMIBOOT_STAGE=final)"
  check_one_line_per_module amiboot.service init "$REPORT/journal-u-amiboot.txt"
  check_one_line_per_module amiboot-final.service final "$REPORT/journal-u-amiboot-final.txt"
  expect_match "power_state module ok" "^module power_state: ok" "$(module_line power_state)"
  expect_match "scripts_user (runcmd) ok" "^module scripts_user: ok" "$(module_line scripts_user)"
  expect_file_match "runcmd ran before the power-off" /var/tmp/amiboot-e2e-power-state \
    "^runcmd ran for $E2E_INSTANCE_7$"

  # amiboot status at shutdown: done, no errors.
  expect_eq "amiboot status exits 0" 0 "$(cat "$REPORT/status.rc")"
  expect_match "amiboot status says done" "^status: done" "$(cat "$REPORT/status.txt")"
  expect_eq "amiboot status --json: status" "done" "$(status_json 'd["status"]')"
  expect_eq "amiboot status --json: instance_id" "$E2E_INSTANCE_7" "$(status_json 'd["instance_id"]')"
  expect_eq "amiboot status --json: no errors" "[]" "$(status_json 'd["errors"]')"

  # The console: the final message, then the kernel powering off (QEMU
  # exited on its own; no restart).
  local message="e2e instance $E2E_INSTANCE_7 powers off after"
  expect_match "final message in the journal" "$message" "$(cat "$REPORT/journal-u-amiboot-final.txt")"
  local final powerdown
  final=$(grep -n -m1 -F "$message" "$console" | cut -d: -f1)
  powerdown=$(grep -n -m1 "reboot: Power down" "$console" | cut -d: -f1)
  expect_ne "console: the final message" "" "$final"
  expect_ne "console: the kernel powered off" "" "$powerdown"
  expect_lt "the final message came before the power-off" "$final" "$powerdown"
  expect_no_match "the guest did not restart" "reboot: Restarting system" "$(cat "$console")"
}

# Boot 8: boot 7's instance again. Boot 7's init stage had nothing per boot
# on the login path (no bootcmd, boothooks or mounts, no firewall, no
# failed module) and recorded the instance; DMI names the same instance: the
# generator wrote no drop-in and sshd started without waiting for amiboot.
check_boot_8() {
  expect_match "the same instance" "^same instance $E2E_INSTANCE_7" "$(journal)"
  expect_eq "amiboot status exits 0" 0 "$(cat "$REPORT/status.rc")"
  expect_eq "amiboot status --json: instance_id" "$E2E_INSTANCE_7" "$(status_json 'd["instance_id"]')"
  expect_match "bootcmd not configured" "^module bootcmd: skipped" "$(module_line bootcmd)"
  expect_match "power_state is per instance: not again" \
    "^module power_state: skipped \(already ran for this instance\)" "$(module_line power_state)"
  expect_file_match "boot 7 recorded that logins need not wait" \
    /var/lib/amiboot/logins-need-not-wait "^$E2E_INSTANCE_7$"
  check_login_order free "$E2E_INSTANCE_7"
  check_ssh_login
  expect_eq "no failed units" "" "$(cat "$REPORT/commands/failed-units.out")"
  check_ssh_start_time 0.5
}
