#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside the e2e guest (amiboot-e2e-report.service, after
# amiboot-final.service): starts two listeners (tcp 8080, which the e2e user
# data's firewall allows, and 8081, which it does not; each connection gets
# the line "amiboot-e2e-open PORT"), waits until the host has logged in over
# ssh and probed them (the host's login creates /run/amiboot-e2e/host-login;
# at most HOST_WAIT seconds), collects what the host asserts on into a
# folder, sends it as a tar archive down the virtio-serial port
# org.amiboot.e2e.report, then powers the guest off.
#
# With --at-shutdown (amiboot-e2e-report-at-shutdown.service's ExecStop, on
# the power_state boot) it runs while the guest shuts down by itself: no
# listeners, no wait for the host, no power-off.
#
# The archive holds:
#   boot_id uptime cmdline            this boot
#   mode                              "boot", or "shutdown" with --at-shutdown
#   host-login                        "yes SECONDS" when the host's login came
#                                     after SECONDS of waiting, else "no SECONDS"
#                                     ("skipped" with --at-shutdown)
#   units/NAME                        `systemctl show NAME` for UNITS below
#   journal-amiboot.json              journalctl -b -o json, SYSLOG_IDENTIFIER=amiboot
#   journal-amiboot-script.json       the same for amiboot-script (script output)
#   journal-u-amiboot.txt             journalctl -b -u amiboot -o cat
#   journal-u-amiboot-final.txt       journalctl -b -u amiboot-final -o cat
#   journal-all.txt                   the whole boot, short-monotonic (for people)
#   status.txt status.rc              `amiboot status` and its exit code
#   status.json status-json.rc        `amiboot status --json`
#   status-long.txt                   `amiboot status --long`
#   files/PATH, files.stat            copies of FILES below; stat lines
#                                     "mode user group size mtime path"
#                                     ("missing path" when absent)
#   commands/NAME.out, NAME.rc        output and exit code of COMMANDS below
#                                     (each stopped after 60 s)
#
# Later tests add what they need to UNITS, FILES and COMMANDS.
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
)

# name|command (run with bash -c)
COMMANDS=(
  "failed-units|systemctl --failed --no-legend --plain"
  "state-listing|ls -laR /var/lib/amiboot"
  "state-dir-mode|stat -c '%a %U %G' /var/lib/amiboot"
  "disks|ls -l /dev/disk/by-id/"
  "ordering-cycles|journalctl -b -o cat | grep -i 'ordering cycle' || true"
  "amiboot-version|amiboot version"
  "amiboot-analyze|amiboot analyze"
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
  "package-journal|journalctl -b -o cat SYSLOG_IDENTIFIER=apt-get AMIBOOT_MODULE=packages"
  "cloud-init-status|cloud-init status --wait --long"
  "listener-8081-local|timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081 && cat <&3'"
  "timezone|timedatectl show -p Timezone --value"
  "localtime-link|readlink /etc/localtime"
  "shadow-admin|getent shadow admin"
  "host-key-files|cd /etc/ssh && stat -c '%n %a %U %G' ssh_host_*"
  "ca-leaf-verify|openssl verify /usr/local/share/amiboot-e2e/leaf.pem"
  "system-state|systemctl is-system-running"
  "os-release|. /etc/os-release; echo \"\$VERSION_CODENAME\""
  "man-amiboot|MANWIDTH=80 man amiboot 2>&1 | col -b | head -n 40"
  "man-amiboot-yaml|MANWIDTH=80 man amiboot.yaml 2>&1 | col -b | head -n 60"
  "man-files|ls /usr/share/man/man8/amiboot.8.gz /usr/share/man/man5/amiboot.yaml.5.gz"
  "completion|bash -l -i -c 'f=\$(complete -p -D | sed -n \"s/.* -F \\([^ ]*\\) -D\\\$/\\1/p\"); \"\$f\" amiboot; complete -p amiboot' 2>/dev/null"
  "completion-words|bash -c '. /usr/share/bash-completion/completions/amiboot; COMP_WORDS=(amiboot ana); COMP_CWORD=1; _amiboot; echo \"\${COMPREPLY[*]}\"'"
  "catalog-list|journalctl --list-catalog | grep -i amiboot"
  "failed-module-x|journalctl -b -x --no-pager -o short MESSAGE_ID=e83429b1e4b840d4b57a1843b15fa3be"
  "one-command|journalctl -b -u amiboot.service -u amiboot-final.service -o cat --no-pager"
  "one-command-json|journalctl -b -u amiboot.service -u amiboot-final.service -o json --no-pager"
  "boot-record-init|grep -l \"\$(cat /proc/sys/kernel/random/boot_id)\" /var/lib/amiboot/boots/*-init.json | xargs -r cat"
)

HOST_WAIT=300
at_shutdown=0
[ "${1:-}" = --at-shutdown ] && at_shutdown=1

PORT_NAME=org.amiboot.e2e.report
out=/run/amiboot-e2e-report

rm -rf "$out"
mkdir -p "$out/units" "$out/files" "$out/commands"
cd "$out" || exit 1

# The listeners, then the wait for the host (its ssh login, as admin, may
# create the marker: the folder is world-writable).
marker_dir=/run/amiboot-e2e
mkdir -p "$marker_dir"
chmod 1777 "$marker_dir"
listeners=()
if [ "$at_shutdown" = 1 ]; then
  echo shutdown >mode
  echo skipped >host-login
  echo "amiboot-e2e: the guest is shutting down; reporting now"
else
  echo boot >mode
  for p in 8080 8081; do
    systemd-socket-activate --inetd -a -l "$p" echo "amiboot-e2e-open $p" >/dev/null 2>&1 &
    listeners+=($!)
  done
  echo "amiboot-e2e: listening on 8080 and 8081; waiting up to ${HOST_WAIT}s for the host's ssh login"
  waited=0
  while [ ! -e "$marker_dir/host-login" ] && [ "$waited" -lt "$HOST_WAIT" ]; do
    sleep 1
    waited=$((waited + 1))
  done
  if [ -e "$marker_dir/host-login" ]; then
    echo "yes $waited" >host-login
  else
    echo "no $waited" >host-login
  fi
  echo "amiboot-e2e: host login: $(cat host-login)"
fi
# sshd logged the login before the host's command touched the marker, but
# under TCG journald can still be behind: --sync returns once everything
# sent before it is stored, and the wait covers a slow sshd (at most 15 s).
journalctl --sync 2>/dev/null || true
if [ -e "$marker_dir/host-login" ]; then
  for _ in $(seq 15); do
    journalctl -b -o cat --no-pager | grep -q "Accepted publickey" && break
    sleep 1
    journalctl --sync 2>/dev/null || true
  done
fi

cat /proc/sys/kernel/random/boot_id >boot_id
cat /proc/uptime >uptime
cat /proc/cmdline >cmdline

for unit in "${UNITS[@]}"; do
  systemctl show "$unit" >"units/$unit" 2>&1
done

journalctl -b -o json SYSLOG_IDENTIFIER=amiboot >journal-amiboot.json 2>&1
journalctl -b -o json SYSLOG_IDENTIFIER=amiboot-script >journal-amiboot-script.json 2>&1
journalctl -b -o cat -u amiboot.service >journal-u-amiboot.txt 2>&1
journalctl -b -o cat -u amiboot-final.service >journal-u-amiboot-final.txt 2>&1
journalctl -b -o short-monotonic --no-pager >journal-all.txt 2>&1

amiboot status >status.txt 2>&1
echo $? >status.rc
amiboot status --json >status.json 2>status-json.err
echo $? >status-json.rc
amiboot status --long >status-long.txt 2>&1

: >files.stat
for f in "${FILES[@]}"; do
  if [ -e "$f" ]; then
    mkdir -p "files$(dirname "$f")"
    cp -p "$f" "files$f"
    stat -c '%a %U %G %s %Y %n' "$f" >>files.stat
  else
    echo "missing $f" >>files.stat
  fi
done

for entry in "${COMMANDS[@]}"; do
  name=${entry%%|*}
  timeout 60 bash -c "${entry#*|}" >"commands/$name.out" 2>&1
  echo $? >"commands/$name.rc"
done

# udev names the port; wait for it (the module may load late).
port=/dev/virtio-ports/$PORT_NAME
for _ in $(seq 1 100); do
  [ -e "$port" ] && break
  sleep 0.2
done
if [ -e "$port" ]; then
  tar -C "$out" -cf "$port" .
  echo "amiboot-e2e: report sent ($(du -sk "$out" | cut -f1) KiB)"
else
  echo "amiboot-e2e: no virtio port $port; report not sent"
fi

[ "$at_shutdown" = 1 ] && exit 0
kill "${listeners[@]}" 2>/dev/null
systemctl poweroff --no-block
