#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Measures amiboot on a realistic first boot (the example user data: a
# bootcmd, write_files, runcmd, a script, final_message; fake IMDS on
# loopback; a sandbox root) and on no-op boots, and prints the agent's own
# CPU time and peak RSS (from its run record, children excluded), the wall
# time of the whole run (median of N), the IMDS requests, and the stripped
# binary's size; as root with loop devices, also what growpart adds to the
# init stage when there is nothing to grow (the sandbox root is then the
# mounted partition of a GPT loop disk).
#   usage: tests/bench/bench.sh [RUNS]   (default 21)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-21}
tests/support/install-deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target amiboot amiboot-fake-imds >/dev/null

work=$(mktemp -d /tmp/amiboot-bench.XXXXXX)
empty=$work/empty-user-data
: >"$empty"
start_fake() {  # user-data file -> sets $port, $fake
  rm -f "$work/port"
  build/amiboot-fake-imds --port 0 --port-file "$work/port" --user-data "$1" >/dev/null 2>&1 &
  fake=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  port=$(cat "$work/port")
}
loop=""
cleanup() {
  kill "$fake" 2>/dev/null || true
  if mountpoint -q "$work/rootfs" 2>/dev/null; then umount "$work/rootfs"; fi
  if [ -n "$loop" ]; then losetup -d "$loop" 2>/dev/null || true; fi
  rm -rf "$work"
}
fake=""
trap cleanup EXIT

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
record_field() {  # root stage field -> value from the newest run record
  python3 - "$1" "$2" "$3" <<'PY'
import glob, json, os, sys
root, stage, field = sys.argv[1:]
files = sorted(glob.glob(os.path.join(root, "var/lib/amiboot/boots/*-" + stage + ".json")), key=os.path.getmtime)
print(json.load(open(files[-1]))[field])
PY
}

measure() {  # label, user-data file, mode (first|rerun)
  local label=$1 ud=$2 mode=$3
  start_fake "$ud"
  : >"$work/wall" ; : >"$work/cpu" ; : >"$work/rss" ; : >"$work/req"
  for i in $(seq "$runs"); do
    root=$work/root-$i
    rm -rf "$root"; mkdir -p "$root"
    if [ "$mode" = rerun ]; then
      AMIBOOT_LOG=stderr build/amiboot run --root "$root" --imds "http://127.0.0.1:$port" >/dev/null 2>&1
    fi
    t0=$(now_ns)
    AMIBOOT_LOG=stderr build/amiboot run --root "$root" --imds "http://127.0.0.1:$port" >/dev/null 2>&1
    t1=$(now_ns)
    echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$work/wall"
    init_cpu=$(record_field "$root" init cpu_ms); final_cpu=$(record_field "$root" final cpu_ms)
    echo "$init_cpu" >>"$work/cpu"  # init and final share one process with --stage all
    echo "$final_cpu" >>"$work/cpu.final"
    record_field "$root" final max_rss_kb >>"$work/rss"
    record_field "$root" init imds_requests >>"$work/req"
    rm -rf "$root"
  done
  kill $fake; wait $fake 2>/dev/null || true
  printf '%-34s wall %8s ms   agent CPU %6s ms   peak RSS %6s KiB   IMDS requests %s\n' \
    "$label" "$(median <"$work/wall")" "$(median <"$work/cpu.final")" "$(median <"$work/rss")" \
    "$(median <"$work/req")"
  rm -f "$work/cpu.final"
}

# growpart on a boot with nothing to grow: the root (a GPT loop disk's only
# partition, ext4, mounted as the sandbox root) already fills its disk. Its
# module's wall time (status.json) and the agent's CPU time in the init
# stage with growpart on (auto) and off: the difference is what it adds.
growpart_noop() {
  if [ "$(id -u)" != 0 ] || [ ! -e /dev/loop-control ] || ! command -v sfdisk >/dev/null ||
    ! command -v partx >/dev/null; then
    echo "growpart, nothing to grow: not measured (needs root, loop devices, sfdisk, partx)"
    return
  fi
  local img=$work/disk.img rootfs=$work/rootfs devs=$work/devs
  truncate -s 64M "$img"
  printf 'label: gpt\n,,\n' | sfdisk -q "$img"
  loop=$(losetup -f --show -P "$img")
  # A kernel without partition-table parsers found none: add it (BLKPG).
  [ -e "${loop}p1" ] || partx -a "$loop"
  for _ in $(seq 50); do [ -e "${loop}p1" ] && break; sleep 0.02; done
  mkfs.ext4 -q "${loop}p1"
  mkdir -p "$rootfs" "$devs"  # devs: empty, so the volumes module sees no disk
  mount "${loop}p1" "$rootfs"
  local mode ud
  for mode in auto off; do
    ud=$work/growpart-$mode
    if [ "$mode" = auto ]; then
      printf '#cloud-config\ngrowpart: {mode: auto}\n' >"$ud"
    else
      printf '#cloud-config\ngrowpart: {mode: "off"}\nresize_rootfs: false\n' >"$ud"
    fi
    start_fake "$ud"
    : >"$work/gp-cpu-$mode"; : >"$work/gp-ms-$mode"
    for i in $(seq "$runs"); do
      find "$rootfs" -mindepth 1 -delete
      AMIBOOT_LOG=stderr AMIBOOT_TEST_DEV_DIR=$devs build/amiboot run --root "$rootfs" \
        --imds "http://127.0.0.1:$port" >/dev/null 2>&1
      record_field "$rootfs" init cpu_ms >>"$work/gp-cpu-$mode"
      python3 - "$rootfs" >>"$work/gp-ms-$mode" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1] + "/run/amiboot/status.json"))
print(next(m for m in doc["stages"]["init"]["modules"] if m["name"] == "growpart")["duration_ms"])
PY
    done
    kill $fake; wait $fake 2>/dev/null || true
  done
  local on off
  on=$(median <"$work/gp-cpu-auto"); off=$(median <"$work/gp-cpu-off")
  printf '%-34s module %s ms wall   agent CPU in init %s ms (growpart off: %s ms: %+.2f ms)\n' \
    "growpart, nothing to grow" "$(median <"$work/gp-ms-auto")" "$on" "$off" \
    "$(echo "scale=2; $on - $off" | bc)"
  umount "$rootfs"
  losetup -d "$loop"
  loop=""
}

command -v bc >/dev/null || { apt-get install -y -qq bc >/dev/null; }
echo "amiboot bench: median of $runs runs, $(nproc) cores, $(uname -r)"
measure "first boot (examples/user-data)" examples/user-data first
measure "first boot, empty user data" "$empty" first
measure "no-op rerun (same boot, all done)" examples/user-data rerun
growpart_noop
strip -o "$work/amiboot.stripped" build/amiboot
printf 'stripped binary: %s bytes (%.2f MiB)\n' "$(stat -c %s "$work/amiboot.stripped")" \
  "$(echo "scale=4; $(stat -c %s "$work/amiboot.stripped") / 1048576" | bc)"
