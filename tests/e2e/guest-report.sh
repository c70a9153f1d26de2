#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside the e2e guest (amiboot-e2e-report.service, after
# amiboot-final.service): starts two listeners (tcp 8080, which the e2e user
# data's firewall allows, and 8081, which it does not; each connection gets
# the line "amiboot-e2e-open PORT"), collects what the host asserts on into a
# folder, sends it as a tar archive down the virtio-serial port
# org.amiboot.e2e.report, then powers the guest off.
#
# Most of the report does not depend on the host: it is collected in the
# background, JOBS parts at a time (the guest has 2 vCPUs), while the host
# logs in over ssh and probes the listeners. The host's last login creates
# /run/amiboot-e2e/host-login (waited for at most HOST_WAIT seconds); what a
# login can change (failed units: a login starts user@UID.service; the
# system state; the whole journal with sshd's lines) is collected after
# that. The power-off is forced (systemctl poweroff --force: no units are
# stopped one by one; systemd-shutdown still ends every process, journald
# closes its files, the file systems are unmounted or remounted read-only
# and synced): the next boots find the disks as a clean shutdown leaves
# them.
#
# With --at-shutdown (amiboot-e2e-report-at-shutdown.service's ExecStop, on
# the power_state boot) it runs while the guest shuts down by itself: no
# listeners, no wait for the host, no power-off.
set -u

UNITS=(
  amiboot.service
  amiboot-final.service
  ssh.service
  sshd.service
  systemd-user-sessions.service
  network-online.target
  systemd-networkd-wait-online.service
  multi-user.target
  cloud-final.service
  amiboot-e2e-after-cloud-final.service
  amiboot-e2e-report.service
  amiboot-e2e-report-at-shutdown.service
  amiboot-firewall.service
  network-pre.target
  systemd-networkd.service
)

FILES=(
  /etc/motd.d/50-amiboot-example
  /etc/example/app.env
  /var/lib/example/ready-for-users
  /var/tmp/amiboot-runcmd
  /var/tmp/amiboot-script
  /var/tmp/amiboot-e2e-template
  /var/tmp/amiboot-e2e-per-boot
  /var/tmp/amiboot-e2e-prepare
  /var/log/amiboot-example-boots.log
  /run/amiboot/status.json
  /run/amiboot/result.json
  /run/amiboot/instance-data.json
  /run/amiboot/firewall.nft
  /etc/sudoers.d/90-amiboot-users
  /home/admin/.ssh/authorized_keys
  /root/.ssh/authorized_keys
  /var/lib/cloud/instance/boot-finished
  /var/log/cloud-init-output.log
  /run/cloud-init/result.json
  /run/amiboot-e2e-after-cloud-final
  /etc/timezone
  /etc/ssl/certs/ca-certificates.crt
  /etc/ssh/ssh_host_ed25519_key.pub
  /var/tmp/amiboot-e2e-power-state
  /run/amiboot/firewall-early.nft
  /run/amiboot-e2e-early-nft
  /run/systemd/generator/ssh.service.d/50-amiboot-login.conf
  /run/systemd/generator/systemd-user-sessions.service.d/50-amiboot-login.conf
  /var/lib/amiboot/logins-need-not-wait
)

# name|command (run with bash -c in the report folder), collected while the
# host logs in; the slowest under TCG first, so the background jobs end
# together.
COMMANDS=(
  "man-amiboot|MANWIDTH=80 man amiboot 2>&1 | col -b | head -n 40"
  "man-amiboot-yaml|MANWIDTH=80 man amiboot.yaml 2>&1 | col -b | head -n 60"
  "completion|bash -l -i -c 'f=\$(complete -p -D | sed -n \"s/.* -F \\([^ ]*\\) -D\\\$/\\1/p\"); \"\$f\" amiboot; complete -p amiboot' 2>/dev/null"
  "one-command-json|journalctl -b -u amiboot.service -u amiboot-final.service -o json --no-pager"
  "catalog-list|journalctl --list-catalog | grep -i amiboot"
  "cloud-init-status|cloud-init status --wait --long"
  "one-command|journalctl -b -u amiboot.service -u amiboot-final.service -o cat --no-pager"
  "failed-module-x|journalctl -b -x --no-pager -o short MESSAGE_ID=e83429b1e4b840d4b57a1843b15fa3be"
  "package-journal|journalctl -b -o cat SYSLOG_IDENTIFIER=apt-get AMIBOOT_MODULE=packages"
  "amiboot-analyze|amiboot analyze"
  "completion-words|bash -c '. /usr/share/bash-completion/completions/amiboot; COMP_WORDS=(amiboot ana); COMP_CWORD=1; _amiboot; echo \"\${COMPREPLY[*]}\"'"
  "state-listing|ls -laR /var/lib/amiboot"
  "state-dir-mode|stat -c '%a %U %G' /var/lib/amiboot"
  "disks|ls -l /dev/disk/by-id/"
  "amiboot-version|amiboot version"
  "mnt-findmnt|findmnt -n -o SOURCE,FSTYPE,UUID /mnt"
  "vdb-uuid|blkid -p -o value -s UUID /dev/vdb"
  "root-fs-bytes|df -B1 --output=size / | tail -n 1 | tr -d ' '"
  "root-part-bytes|lsblk -bdno SIZE /dev/vda1"
  "data-findmnt|findmnt -n -o SOURCE,FSTYPE /data"
  "vdc-serial|cat /sys/block/vdc/serial"
  "vdc-label|blkid -p -o value -s LABEL /dev/vdc"
  "fstab|cat /etc/fstab"
  "mnt-file|mountpoint -q /mnt || exit 3; f=/mnt/amiboot-e2e-file; [ -e \$f ] || cat /proc/sys/kernel/random/boot_id >\$f; cat \$f"
  "host-key-fingerprints|for f in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -l -f \$f; done"
  "passwd-admin|getent passwd admin"
  "nft-ruleset|nft list ruleset"
  "listener-8080-local|timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 && cat <&3'"
  "package-hello|dpkg-query -W -f '\${Status} \${Version}' amiboot-e2e-hello"
  "package-vendor|dpkg-query -W -f '\${Status} \${Version}' amiboot-e2e-vendor"
  "vendor-sources|cat /etc/apt/sources.list.d/amiboot-e2e-vendor.sources"
  "vendor-keyring|head -n 1 /etc/apt/keyrings/amiboot-e2e-vendor.asc"
  "apt-trusted|ls -A /etc/apt/trusted.gpg.d/; ls /etc/apt/trusted.gpg 2>/dev/null || true"
  "listener-8081-local|timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081 && cat <&3'"
  "timezone|timedatectl show -p Timezone --value"
  "localtime-link|readlink /etc/localtime"
  "shadow-admin|getent shadow admin"
  "host-key-files|cd /etc/ssh && stat -c '%n %a %U %G' ssh_host_*"
  "ca-leaf-verify|openssl verify /usr/local/share/amiboot-e2e/leaf.pem"
  "os-release|. /etc/os-release; echo \"\$VERSION_CODENAME\""
  "man-files|ls /usr/share/man/man8/amiboot.8.gz /usr/share/man/man5/amiboot.yaml.5.gz"
  "dmi-asset-tag|cat /sys/class/dmi/id/board_asset_tag"
  "boot-record-init|grep -l \"\$(cat /proc/sys/kernel/random/boot_id)\" /var/lib/amiboot/boots/*-init.json | xargs -r cat"
)

# The same, collected after the host's logins, journal-all.txt last of all
# (ordering-cycles reads it: the whole boot's journal, read once).
LATE_COMMANDS=(
  "failed-units|systemctl --failed --no-legend --plain"
  "system-state|systemctl is-system-running"
)
LATE_JOURNAL_COMMANDS=(
  "ordering-cycles|grep -i 'ordering cycle' journal-all.txt || true"
)

# Background jobs at once. What still runs EARLY_TIMEOUT seconds after
# the collection began is stopped (a stuck command); the commands it
# did not finish get the exit status 124, as timeout(1) gives.
JOBS=3
EARLY_TIMEOUT=240
HOST_WAIT=300
at_shutdown=0
[ "${1:-}" = --at-shutdown ] && at_shutdown=1

PORT_NAME=org.amiboot.e2e.report
out=/run/amiboot-e2e-report

rm -rf "$out"
mkdir -p "$out/units" "$out/files" "$out/commands"
cd "$out" || exit 1

# Under TCG every exec costs the guest tenths of a second (the dynamic
# loader's page faults), so the report forks where it can and execs little:
# commands run in a subshell of this script (no new bash, no timeout(1)),
# the units come from one `systemctl show`, the files from one cp and one
# stat. A stuck command is stopped by start_early's guard.

# nap SECONDS: sleep without a process (read times out on a pipe that
# never gets data).
exec {nap_fd}<> <(:)
nap() { read -r -t "$1" -u "$nap_fd" _ || true; }

# run_command NAME COMMAND: COMMAND's output and exit status into commands/.
run_command() {
  (
    set +u
    eval "$2"
  ) >"commands/$1.out" 2>&1
  echo $? >"commands/$1.rc"
}

# The units' properties, one `systemctl show` for all: its blocks come in
# the order of the names, a blank line between them. If the count is off,
# one call per unit.
collect_units() {
  systemctl show "${UNITS[@]}" >units.all 2>&1
  if [ "$(grep -c '^$' units.all)" = $((${#UNITS[@]} - 1)) ] &&
    awk -v names="${UNITS[*]}" 'BEGIN { n = split(names, u, " "); i = 1 }
      /^$/ { close("units/" u[i]); i++; next }
      { print > ("units/" u[i]) }' units.all; then
    rm -f units.all
    return
  fi
  rm -f units.all
  local unit
  for unit in "${UNITS[@]}"; do
    systemctl show "$unit" >"units/$unit" 2>&1
  done
}

collect_amiboot_journals() {
  journalctl -b -o json SYSLOG_IDENTIFIER=amiboot >journal-amiboot.json 2>&1
  journalctl -b -o json SYSLOG_IDENTIFIER=amiboot-script >journal-amiboot-script.json 2>&1
  journalctl -b -o cat -u amiboot.service >journal-u-amiboot.txt 2>&1
  journalctl -b -o cat -u amiboot-final.service >journal-u-amiboot-final.txt 2>&1
}

collect_status() {
  amiboot status >status.txt 2>&1
  echo $? >status.rc
  amiboot status --json >status.json 2>status-json.err
  echo $? >status-json.rc
  amiboot status --long >status-long.txt 2>&1
}

collect_files() {
  local f present=()
  : >files.stat
  for f in "${FILES[@]}"; do
    if [ -e "$f" ]; then
      present+=("$f")
    else
      echo "missing $f" >>files.stat
    fi
  done
  [ ${#present[@]} -gt 0 ] || return 0
  # (relative to /: with absolute names cp -p --parents complains about
  # the parents' attributes)
  (cd / && cp -p --parents "${present[@]#/}" "$out/files/")
  stat -c '%a %U %G %s %Y %n' "${present[@]}" >>files.stat
}

# collect_early: everything the host's logins do not change, JOBS parts at
# a time (a subshell: its `wait` is for its own jobs, not the listeners).
collect_early() (
  running=0
  # start_job COMMAND...: in the background, once fewer than JOBS run.
  start_job() {
    if [ "$running" -ge "$JOBS" ]; then
      wait -n
      running=$((running - 1))
    fi
    "$@" &
    running=$((running + 1))
  }
  # amiboot's stages are over; what they logged (their stdout streams
  # included) is stored before it is read.
  journalctl --sync 2>/dev/null || true
  printf '%s\n' "$(</proc/sys/kernel/random/boot_id)" >boot_id
  printf '%s\n' "$(</proc/cmdline)" >cmdline
  start_job collect_amiboot_journals
  start_job collect_status
  local entry
  for entry in "${COMMANDS[@]}"; do
    start_job run_command "${entry%%|*}" "${entry#*|}"
  done
  start_job collect_units
  start_job collect_files
  wait
)

# kill_tree PID: PID and everything below it (stopped first, so nothing
# new starts while the tree is walked).
kill_tree() {
  local pid
  kill -STOP "$1" 2>/dev/null
  for pid in $(pgrep -P "$1"); do
    kill_tree "$pid"
  done
  kill -KILL "$1" 2>/dev/null
}

# start_early: collect_early in the background, and its guard: past
# EARLY_TIMEOUT seconds, what still runs is stopped.
start_early() {
  collect_early &
  early=$!
  (
    nap "$EARLY_TIMEOUT"
    echo "amiboot-e2e: the collection still runs after ${EARLY_TIMEOUT}s; stopping it"
    kill_tree "$early"
  ) &
  guard=$!
}

# wait_early: waits for collect_early (or its guard); the commands it did
# not finish get 124.
wait_early() {
  wait "$early"
  kill "$guard" 2>/dev/null
  wait "$guard" 2>/dev/null
  local entry
  for entry in "${COMMANDS[@]}"; do
    [ -e "commands/${entry%%|*}.rc" ] || echo 124 >"commands/${entry%%|*}.rc"
  done
}

# The listeners, the early part, then the wait for the host (its ssh
# login, as admin, may create the marker: the folder is world-writable).
marker_dir=/run/amiboot-e2e
mkdir -p "$marker_dir"
chmod 1777 "$marker_dir"
listeners=()
if [ "$at_shutdown" = 1 ]; then
  echo shutdown >mode
  echo skipped >host-login
  echo "amiboot-e2e: the guest is shutting down; reporting now"
  start_early
else
  echo boot >mode
  for p in 8080 8081; do
    systemd-socket-activate --inetd -a -l "$p" echo "amiboot-e2e-open $p" >/dev/null 2>&1 &
    listeners+=($!)
  done
  start_early
  echo "amiboot-e2e: listening on 8080 and 8081; collecting; waiting up to ${HOST_WAIT}s for the host's ssh login"
  started=$SECONDS
  while [ ! -e "$marker_dir/host-login" ] && [ $((SECONDS - started)) -lt "$HOST_WAIT" ]; do
    nap 0.25
  done
  if [ -e "$marker_dir/host-login" ]; then
    echo "yes $((SECONDS - started))" >host-login
  else
    echo "no $((SECONDS - started))" >host-login
  fi
  echo "amiboot-e2e: host login: $(<host-login)"
fi

# What the host's logins may have changed.
for entry in "${LATE_COMMANDS[@]}"; do
  run_command "${entry%%|*}" "${entry#*|}"
done
wait_early
echo "amiboot-e2e: collected; the whole journal next"
# The whole journal last. sshd logged the host's login before the host's
# command touched the marker, but under TCG journald can still be behind:
# --sync returns once everything sent before it is stored, and the retries
# cover a slow sshd (at most 15 s).
journalctl --sync 2>/dev/null || true
for _ in $(seq 15); do
  journalctl -b -o short-monotonic --no-pager >journal-all.txt 2>&1
  [ -e "$marker_dir/host-login" ] || break
  grep -q "Accepted publickey" journal-all.txt && break
  nap 1
  journalctl --sync 2>/dev/null || true
done
printf '%s\n' "$(</proc/uptime)" >uptime
for entry in "${LATE_JOURNAL_COMMANDS[@]}"; do
  run_command "${entry%%|*}" "${entry#*|}"
done

# udev names the port; wait for it (the module may load late).
port=/dev/virtio-ports/$PORT_NAME
for _ in $(seq 1 100); do
  [ -e "$port" ] && break
  nap 0.2
done
if [ -e "$port" ]; then
  tar -C "$out" -cf "$port" .
  echo "amiboot-e2e: report sent ($(du -sk "$out" | cut -f1) KiB)"
else
  echo "amiboot-e2e: no virtio port $port; report not sent"
fi

[ "$at_shutdown" = 1 ] && exit 0
kill "${listeners[@]}" 2>/dev/null
sync
systemctl poweroff --force
