# SPDX-License-Identifier: Apache-2.0
# Sourced by packaging/deb/build.sh and packaging/rpm/build.sh: the options
# both take, the output folder, the project version and a log prefix.
#
#   parse_build_options NAME HELP_LINES EXTRA_FLAG... -- "$@"
# sets install_deps (0/1), outdir (absolute, created) and, for each
# EXTRA_FLAG such as --no-lintian, a variable no_lintian=1 when it is given.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

parse_build_options() {
  build_name=$1
  local help_lines=$2
  shift 2
  local extra=()
  while [ "$1" != -- ]; do
    extra+=("$1")
    printf -v "$(flag_var "$1")" 0
    shift
  done
  shift
  install_deps=0
  outdir=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --install-deps) install_deps=1 ;;
      -h | --help)
        sed -n "$help_lines" "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
      -*)
        if [[ " ${extra[*]} " == *" $1 "* ]]; then
          printf -v "$(flag_var "$1")" 1
        else
          echo "$build_name: unknown option $1" >&2
          exit 2
        fi
        ;;
      *) outdir=$1 ;;
    esac
    shift
  done
  outdir=${outdir:-$top/build/packages}
  mkdir -p "$outdir"
  outdir=$(cd "$outdir" && pwd)
}

# --no-lintian -> no_lintian
flag_var() {
  local name=${1#--}
  echo "${name//-/_}"
}

log() { echo "$build_name: $*" >&2; }

# The version in CMakeLists.txt's project() line.
project_version() {
  sed -n 's/^project(amiboot VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt"
}

# The source tree without VCS data and build trees, as a tar stream on
# stdout; extra tar options (excludes, --transform) come first.
source_tar() {
  tar -C "$top" --exclude=./.git --exclude=./build --exclude='./build-*' "$@" -cf - .
}

# The scratch folder of one package build, on stdout. With
# AMIBOOT_PACKAGE_WORK set (tests/run.sh sets it) it is always the same
# folder, emptied first, so that a compiler cache sees the same paths from
# one run to the next; otherwise a new temporary folder.
package_work_dir() {
  local kind=$1
  if [ -n "${AMIBOOT_PACKAGE_WORK:-}" ]; then
    rm -rf "${AMIBOOT_PACKAGE_WORK:?}/$kind"
    mkdir -p "$AMIBOOT_PACKAGE_WORK/$kind"
    echo "$AMIBOOT_PACKAGE_WORK/$kind"
  else
    mktemp -d "/tmp/amiboot-$kind.XXXXXX"
  fi
}
