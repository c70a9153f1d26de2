# SPDX-License-Identifier: Apache-2.0
# What the startup benches share (sourced by startup.sh and first-boot-ab.sh):
# the fake IMDS, sandbox roots whose /run is a tmpfs as on an instance, the
# run records' figures and medians. The caller sets `work` (its temporary
# folder) and calls bench_cleanup from its EXIT trap.

fake=""
run_tmpfs=${AMIBOOT_BENCH_RUN_TMPFS:-1}  # 0: /run on /tmp's file system, as before

# bench_start_fake BUILD [fake-imds options...]: starts BUILD's fake IMDS on
# loopback; sets `port`.
bench_start_fake() {
  local build=$1
  shift
  rm -f "$work/port"
  "$build/amiboot-fake-imds" --port 0 --port-file "$work/port" "$@" >/dev/null 2>&1 &
  fake=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  port=$(cat "$work/port")
}

bench_stop_fake() {
  kill "$fake"
  wait "$fake" 2>/dev/null || true
  fake=""
}

# bench_new_root ROOT: a sandbox root whose /run is a tmpfs, as on every
# systemd instance (without one, each status.json rewrite costs a data flush
# on ext4: a cost a real instance does not have). Says so once when it
# cannot mount one (not root).
bench_new_root() {
  mkdir -p "$1/run"
  if [ "$run_tmpfs" = 1 ] && ! mount -t tmpfs -o mode=0755,size=16m amiboot-bench "$1/run" 2>/dev/null; then
    run_tmpfs=0
    echo "note: cannot mount a tmpfs (not root?): the sandbox's /run is on $(stat -f -c %T "$1")" >&2
  fi
}

bench_drop_root() {
  if mountpoint -q "$1/run" 2>/dev/null; then umount "$1/run"; fi
  rm -rf "$1"
}

bench_cleanup() {
  if [ -n "$fake" ]; then kill "$fake" 2>/dev/null || true; fi
  local m
  for m in "$work"/root*/run; do
    if mountpoint -q "$m" 2>/dev/null; then umount "$m" || true; fi
  done
  rm -rf "$work"
}

# bench_record ROOT STAGE FIELD: FIELD of the newest STAGE run record.
bench_record() {
  python3 - "$@" <<'PY'
import glob, json, os, sys
root, stage, field = sys.argv[1:]
files = sorted(glob.glob(os.path.join(root, "var/lib/amiboot/boots/*-" + stage + ".json")), key=os.path.getmtime)
print(json.load(open(files[-1]))[field])
PY
}

# The median of the numbers on stdin, one a line.
median() { sort -n | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.2f", m}'; }
