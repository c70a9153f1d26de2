#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What a command costs beside what starting any program costs (issue 16):
# each figure is the median of RUNS runs, printed beside the same run's
# baseline, a C++ program that does nothing (tests/bench/baseline.cc, linked
# as amiboot is) started the same way, by tests/bench/rusage.c (fork, exec,
# wait4: CPU and peak RSS of the process; children are waited for by the
# agent, so the agent's own share of a boot is read from its run record).
#   - validate of a 1 KiB cloud-config (tests/bench/cloud-config-1k.yaml),
#     and beside it its floor: a program that only reads the file and
#     runs yaml-cpp's parser over it (tests/bench/yaml_load.cc), linked as
#     amiboot;
#   - a first boot with examples/user-data (fake IMDS on loopback, a sandbox
#     root): the agent's CPU excluding children and its peak RSS. The sandbox
#     root's /run is a tmpfs, as it is on every systemd instance (the bench
#     runs as root; otherwise it says so and /run is on /tmp's file system,
#     where each rewrite of /run/amiboot/status.json costs a data flush on
#     ext4: a cost a real instance does not have);
#   - a no-op rerun on the same root;
#   - the metadata fetch alone, the fake IMDS answering each request after
#     20 ms, with 2 keys and 6 mapping entries (the run record's imds_ms);
#   - ssh-keygen for each host key type (what each type costs a first boot).
#   usage: BUILD=build tests/bench/startup.sh [RUNS]   (default 21; BUILD must
#   hold amiboot and amiboot-fake-imds, e.g. a RelWithDebInfo build)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-21}
build=${BUILD:-build}
work=$(mktemp -d /tmp/amiboot-startup.XXXXXX)
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
trap bench_cleanup EXIT
cc -O2 -static -o "$work/rusage" tests/bench/rusage.c
c++ -O2 -static-libstdc++ -static-libgcc -o "$work/baseline" tests/bench/baseline.cc
# The archive the build links (its CMake cache says which).
yaml_cpp=$(sed -n 's/^YAML_CPP_STATIC:FILEPATH=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
c++ -O2 -static-libstdc++ -static-libgcc -o "$work/yaml_load" tests/bench/yaml_load.cc \
  "${yaml_cpp:-/usr/lib/x86_64-linux-gnu/libyaml-cpp.a}"

col() { awk -v c="$1" '{print $c}'; }
measure() {  # label, command...: median CPU ms and RSS KiB, then the baseline's
  local label=$1; shift
  "$work/rusage" "$runs" "$@" >"$work/m"
  "$work/rusage" "$runs" "$work/baseline" >"$work/b"
  local cpu rss bcpu brss
  cpu=$(col 1 <"$work/m" | median); rss=$(col 2 <"$work/m" | median)
  bcpu=$(col 1 <"$work/b" | median); brss=$(col 2 <"$work/b" | median)
  printf '%-28s CPU %6s ms (baseline %s ms, %.2fx)   peak RSS %6s KiB (baseline %s KiB, +%.2f MiB)\n' \
    "$label" "$cpu" "$bcpu" "$(echo "$cpu / $bcpu" | bc -l)" "$rss" "$brss" \
    "$(echo "($rss - $brss) / 1024" | bc -l)"
}
echo "amiboot startup bench: median of $runs runs, $(nproc) cores, $(uname -r), $build/amiboot"
measure "validate, 1 KiB cloud-config" "$build/amiboot" validate tests/bench/cloud-config-1k.yaml
# What yaml-cpp alone costs on that file: validate cannot cost less.
measure "  floor: yaml-cpp parser alone" "$work/yaml_load" tests/bench/cloud-config-1k.yaml
measure "version" "$build/amiboot" version

# A first boot and a no-op rerun: the agent's own CPU and RSS from its run
# record (RUSAGE_SELF: children excluded), beside the baseline's.
bench_start_fake "$build" --user-data examples/user-data
: >"$work/first-cpu"; : >"$work/first-rss"; : >"$work/rerun-cpu"
for i in $(seq "$runs"); do
  root=$work/root-$i; bench_new_root "$root"
  AMIBOOT_LOG=stderr "$build/amiboot" run --root "$root" --imds "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  bench_record "$root" final cpu_ms >>"$work/first-cpu"
  bench_record "$root" final max_rss_kb >>"$work/first-rss"
  AMIBOOT_LOG=stderr "$build/amiboot" run --root "$root" --imds "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  bench_record "$root" init cpu_ms >>"$work/rerun-cpu"
  bench_drop_root "$root"
done
bench_stop_fake
"$work/rusage" "$runs" "$work/baseline" >"$work/b"
bcpu=$(col 1 <"$work/b" | median)
first=$(median <"$work/first-cpu"); rerun=$(median <"$work/rerun-cpu")
printf '%-28s agent CPU %6s ms excl. children (baseline %s ms, %.2fx)   peak RSS %s KiB\n' \
  "first boot, example" "$first" "$bcpu" "$(echo "$first / $bcpu" | bc -l)" "$(median <"$work/first-rss")"
printf '%-28s agent CPU %6s ms (baseline %s ms, %.2fx)\n' \
  "no-op rerun" "$rerun" "$bcpu" "$(echo "$rerun / $bcpu" | bc -l)"
echo "  (the sandbox root's /run: $([ "$run_tmpfs" = 1 ] && echo "a tmpfs, as on an instance" || echo "not a tmpfs"))"

# Metadata in three round trips: 20 ms a response, 2 keys, 6 mapping entries.
mkdir -p "$work/imds/meta-data/public-keys/1=second" "$work/imds/meta-data/block-device-mapping"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchSecondKey000000000000000000000000 second" \
  >"$work/imds/meta-data/public-keys/1=second/openssh-key"
# (no ephemeralN: the default mounts would wait for it to appear)
for e in ebs1:sdf ebs2:sdg ebs3:sdh ebs4:sdi; do
  printf '%s' "${e#*:}" >"$work/imds/meta-data/block-device-mapping/${e%%:*}"
done
bench_start_fake "$build" --latency-ms 20 --dir "$work/imds" --user-data examples/user-data
: >"$work/imds-ms"; : >"$work/imds-req"
for i in $(seq "$runs"); do
  root=$work/root-$i; bench_new_root "$root"
  AMIBOOT_LOG=stderr "$build/amiboot" run --stage init --root "$root" --imds "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  bench_record "$root" init imds_ms >>"$work/imds-ms"
  bench_record "$root" init imds_requests >>"$work/imds-req"
  bench_drop_root "$root"
done
bench_stop_fake
printf '%-28s %s ms in %s requests (target: 3 x 20 ms + 15 ms = 75 ms)\n' \
  "metadata, 20 ms latency" "$(median <"$work/imds-ms")" "$(median <"$work/imds-req")"

# Host key generation, one type at a time (what sshd would wait for); RSA
# 3072 takes seconds, so at most 5 runs each.
if command -v ssh-keygen >/dev/null; then
  for type in ed25519 ecdsa rsa; do
    : >"$work/kg"
    for i in $(seq "$((runs < 5 ? runs : 5))"); do
      rm -f "$work/key" "$work/key.pub"
      t0=$(date +%s%N)
      ssh-keygen -q -t "$type" -N "" -f "$work/key" >/dev/null
      echo "scale=3; ($(date +%s%N) - $t0) / 1000000" | bc >>"$work/kg"
    done
    printf '%-28s %s ms wall (median of %s)\n' "ssh-keygen -t $type" "$(median <"$work/kg")" \
      "$(wc -l <"$work/kg")"
  done
fi
