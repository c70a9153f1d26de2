# shellcheck shell=bash
# What the e2e test asserts, one function per boot. run.sh boots the guest
# once per entry of E2E_BOOTS (run.sh), points REPORT at that boot's guest
# report and calls check_boot_N. Add assertions here; add what they read to
# guest-report.sh (UNITS, FILES, COMMANDS).
#
# The user data is examples/user-data (examples/cloud-config.yaml and
# examples/script.sh).

E2E_INSTANCE_1=i-0123456789abcdef0 # the fake IMDS's default instance
E2E_INSTANCE_3=i-0e2e0000000000003 # boot 3: a new instance from the same image

# --- per-boot host services ------------------------------------------------
# boot_setup N DIR runs before boot N starts, boot_teardown N DIR after it
# ended (DIR is the boot's folder; its report lands in DIR/report). A host
# service the guest must reach (a readiness receiver, ...) is started in
# boot_setup: put its pid in E2E_EXTRA_PIDS (killed on any exit) and a QEMU
# guestfwd rule in E2E_GUESTFWD, e.g.
#   E2E_GUESTFWD+=("tcp:169.254.169.250:8080-cmd:socat - TCP:127.0.0.1:$port")
boot_setup() { :; }
boot_teardown() { :; }

MSGID_START=8b1f0a3e5c6d4e2f9a7b1c0d2e3f4a5b
MSGID_MODULE_DONE=3c9e7d1a2b4f4c6e8d0a1b2c3d4e5f60
MSGID_FINISHED=e4d2c1b0a9f84e7d6c5b4a3928171605

# --- checks every boot makes ---------------------------------------------------

# check_common INSTANCE_ID
check_common() {
  local id=$1 n

  expect_unit_active amiboot.service
  expect_unit_active amiboot-final.service

  # One run per stage: one start entry each, and systemd started each once.
  n=$(count_lines "$(journal MESSAGE_ID=$MSGID_START AMIBOOT_STAGE=init)")
  expect_eq "init stage started once" 1 "$n"
  n=$(count_lines "$(journal MESSAGE_ID=$MSGID_START AMIBOOT_STAGE=final)")
  expect_eq "final stage started once" 1 "$n"
  expect_eq "amiboot.service not restarted" 0 "$(unit_prop amiboot.service NRestarts)"
  expect_match "init stage finished: done" "stage finished: done" \
    "$(journal MESSAGE_ID=$MSGID_FINISHED AMIBOOT_STAGE=init)"
  expect_match "final stage finished: done" "stage finished: done" \
    "$(journal MESSAGE_ID=$MSGID_FINISHED AMIBOOT_STAGE=final)"

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
  expect_eq "amiboot status exits 0" 0 "$(cat "$REPORT/status.rc")"
  expect_match "amiboot status says done" "^status: done" "$(cat "$REPORT/status.txt")"
  expect_eq "amiboot status --json: status" "done" "$(status_json 'd["status"]')"
  expect_eq "amiboot status --json: instance_id" "$id" "$(status_json 'd["instance_id"]')"
  expect_eq "amiboot status --json: no errors" "[]" "$(status_json 'd["errors"]')"

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
  expect_eq "no failed units" "" "$(cat "$REPORT/commands/failed-units.out")"

  # The second disk is there for the volume tests of later issues.
  expect_match "second disk visible by serial" "virtio-vol0123" "$(cat "$REPORT/commands/disks.out")"

  # State is root-only.
  expect_eq "/var/lib/amiboot is 0700 root:root" "700 root root" \
    "$(cat "$REPORT/commands/state-dir-mode.out")"
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

# --- per boot -----------------------------------------------------------------

check_boot_1() {
  check_common "$E2E_INSTANCE_1"
  expect_match "a new instance" "^new instance $E2E_INSTANCE_1" "$(journal)"

  # write_files (init stage) and the deferred one (final stage).
  expect_file_match "write_files: motd" /etc/motd.d/50-amiboot-example "Configured by amiboot"
  expect_file_match "write_files: b64 content decoded" /etc/example/app.env "^APP_MODE=production$"
  expect_eq "write_files: permissions 0600" 600 "$(file_stat /etc/example/app.env mode)"
  expect_file_match "write_files: deferred file" /var/lib/example/ready-for-users "after users exist"
  # bootcmd, runcmd, the user script.
  expect_file_lines "bootcmd ran once this boot" /var/log/amiboot-example-boots.log 1
  expect_file_match "runcmd ran" /var/tmp/amiboot-runcmd "^runcmd ran for $E2E_INSTANCE_1$"
  expect_file_match "user script ran" /var/tmp/amiboot-script "^user-data script ran for $E2E_INSTANCE_1$"
  expect_match "script output in the journal" "hello from the example script" "$(script_journal)"
  expect_match "runcmd module ok" "^module runcmd: ok" "$(module_line runcmd)"
  expect_match "final message on stdout (console and journal)" \
    "example instance $E2E_INSTANCE_1 is ready" "$(cat "$REPORT/journal-u-amiboot-final.txt")"

  # Volumes: ephemeral0 -> sdb in the fake's block-device-mapping is the
  # blank second disk (/dev/vdb): formatted, mounted at /mnt, in fstab by UUID.
  expect_match "volumes module ok" "^module volumes: ok" "$(module_line volumes)"
  BOOT1_VDB_UUID=$(cat "$REPORT/commands/vdb-uuid.out")
  expect_ne "the second disk got a filesystem" "" "$BOOT1_VDB_UUID"
  expect_eq "/mnt is the second disk" "/dev/vdb ext4 $BOOT1_VDB_UUID" \
    "$(tr -s ' ' <"$REPORT/commands/mnt-findmnt.out")"
  expect_match "fstab entry by UUID with nofail" "^UUID=$BOOT1_VDB_UUID[[:space:]]+/mnt[[:space:]].*nofail" \
    "$(cat "$REPORT/commands/fstab.out")"
  BOOT1_ID=$(cat "$REPORT/boot_id")
  expect_eq "a file written on /mnt" "$BOOT1_ID" "$(cat "$REPORT/commands/mnt-file.out")"
  BOOT1_FSTAB=$(cat "$REPORT/commands/fstab.out")

  # Users: the default user exists; host keys were made for this instance
  # and their fingerprints are on the console between cloud-init's markers.
  expect_match "default user admin" "^admin:x:" "$(cat "$REPORT/commands/passwd-admin.out")"
  expect_match "users module ok" "^module users: ok" "$(module_line users)"
  expect_match "ssh_host_keys module ok" "^module ssh_host_keys: ok" "$(module_line ssh_host_keys)"
  expect_match "fingerprints on the console" "BEGIN SSH HOST KEY FINGERPRINTS" \
    "$(cat "$REPORT/journal-u-amiboot.txt")"
  BOOT1_FINGERPRINTS=$(cat "$REPORT/commands/host-key-fingerprints.out")

  # Kept for boot 2: per-instance output must not change.
  BOOT1_RUNCMD_MTIME=$(file_stat /var/tmp/amiboot-runcmd mtime)
  BOOT1_SCRIPT_MTIME=$(file_stat /var/tmp/amiboot-script mtime)
}

check_boot_2() {
  check_common "$E2E_INSTANCE_1"
  expect_match "the same instance" "^same instance $E2E_INSTANCE_1" "$(journal)"

  # Per-instance work did not run again...
  expect_match "runcmd skipped" "^module runcmd: skipped \(already ran for this instance\)" \
    "$(module_line runcmd)"
  expect_match "scripts_user skipped" "^module scripts_user: skipped \(already ran for this instance\)" \
    "$(module_line scripts_user)"
  expect_match "write_files skipped" "^module write_files: skipped \(already ran for this instance\)" \
    "$(module_line write_files)"
  expect_eq "runcmd output untouched" "${BOOT1_RUNCMD_MTIME:-?}" "$(file_stat /var/tmp/amiboot-runcmd mtime)"
  expect_eq "script output untouched" "${BOOT1_SCRIPT_MTIME:-?}" "$(file_stat /var/tmp/amiboot-script mtime)"
  expect_eq "no script output in the journal" 0 "$(count_lines "$(script_journal)")"
  # ...per-boot work did.
  expect_match "bootcmd ran" "^module bootcmd: ok" "$(module_line bootcmd)"
  expect_file_lines "bootcmd appended a line this boot" /var/log/amiboot-example-boots.log 2

  # The volume from boot 1 is mounted again and its file read back.
  expect_eq "/mnt is still the second disk" "/dev/vdb ext4 ${BOOT1_VDB_UUID:-?}" \
    "$(tr -s ' ' <"$REPORT/commands/mnt-findmnt.out")"
  expect_eq "the file written on boot 1 is read back" "${BOOT1_ID:-?}" \
    "$(cat "$REPORT/commands/mnt-file.out")"
  expect_eq "fstab unchanged" "${BOOT1_FSTAB:-?}" "$(cat "$REPORT/commands/fstab.out")"
  expect_no_match "no mkfs on boot 2" "mkfs" "$(cat "$REPORT/journal-u-amiboot.txt")"
  expect_eq "host keys unchanged on the same instance" "${BOOT1_FINGERPRINTS:-?}" \
    "$(cat "$REPORT/commands/host-key-fingerprints.out")"
}

check_boot_3() {
  check_common "$E2E_INSTANCE_3"
  expect_match "a new instance, and the previous one named" \
    "^new instance $E2E_INSTANCE_3 \(was $E2E_INSTANCE_1\)" "$(journal)"

  # Per-instance work runs again for the new instance.
  expect_match "runcmd ran again" "^module runcmd: ok" "$(module_line runcmd)"
  expect_match "write_files ran again" "^module write_files: ok" "$(module_line write_files)"
  expect_file_match "runcmd output names the new instance" /var/tmp/amiboot-runcmd \
    "^runcmd ran for $E2E_INSTANCE_3$"
  expect_file_match "user script output names the new instance" /var/tmp/amiboot-script \
    "^user-data script ran for $E2E_INSTANCE_3$"
  expect_file_lines "bootcmd: a line per boot" /var/log/amiboot-example-boots.log 3

  # A new instance from the same image gets its own host keys; the volume
  # with data on it is mounted, never formatted again.
  expect_ne "new host keys for the new instance" "${BOOT1_FINGERPRINTS:-?}" \
    "$(cat "$REPORT/commands/host-key-fingerprints.out")"
  expect_match "ssh_host_keys ran again" "^module ssh_host_keys: ok" "$(module_line ssh_host_keys)"
  expect_no_match "no mkfs on boot 3" "mkfs" "$(cat "$REPORT/journal-u-amiboot.txt")"
  expect_eq "the boot-1 file is still on /mnt" "${BOOT1_ID:-?}" "$(cat "$REPORT/commands/mnt-file.out")"
}

check_boot_4() {
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
  expect_file_lines "bootcmd did not run" /var/log/amiboot-example-boots.log 3
  expect_eq "no failed units" "" "$(cat "$REPORT/commands/failed-units.out")"
}
