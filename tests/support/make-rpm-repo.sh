#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds tiny noarch RPMs and a repository of them (createrepo_c) in DIR, for
# tests that run the real dnf or zypper against `baseurl=file://DIR`.
#
#   make-rpm-repo.sh DIR NAME=VERSION[+reboot|+broken|+hold] ...
#
# Each package installs /usr/share/NAME/version holding VERSION (release 1).
# With "+reboot" it declares that it needs a reboot the way each tool reads
# it: zypper's `Provides: installhint(reboot-needed)`; dnf's needs-restarting
# reads its list of such packages from the image's
# /etc/dnf/plugins/needs-restarting.d/, which the test writes. With "+broken"
# its %post fails. With "+hold" its %post waits while /run/NAME.hold exists in
# the root, so the tool holds its lock as long as a test wants. Needs rpmbuild
# and createrepo_c.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: make-rpm-repo.sh DIR NAME=VERSION[+reboot|+broken|+hold] ..." >&2
  exit 2
fi
out=$1
shift
mkdir -p "$out"
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
for spec in "$@"; do
  extra="" post=""
  case "$spec" in
    *+reboot) extra="Provides: installhint(reboot-needed)" spec=${spec%+reboot} ;;
    *+broken) post="echo 'amiboot test: this %post fails' >&2; exit 1" spec=${spec%+broken} ;;
    # Holds the tool's lock from the test's side: the transaction stays in
    # %post while /run/NAME.hold exists (at most 2 minutes); /run/NAME.running
    # says it got there.
    *+hold)
      spec=${spec%+hold}
      post="touch /run/${spec%%=*}.running; i=0
while [ -e /run/${spec%%=*}.hold ] && [ \$i -lt 600 ]; do sleep 0.2; i=\$((i + 1)); done"
      ;;
  esac
  name=${spec%%=*}
  version=${spec#*=}
  cat >"$top/$name-$version.spec" <<SPEC
Name: $name
Version: $version
Release: 1
Summary: tiny package for amiboot's package tests
License: MIT
BuildArch: noarch
$extra

%description
tiny package for amiboot's package tests

%install
mkdir -p %{buildroot}/usr/share/$name
echo $version > %{buildroot}/usr/share/$name/version

%files
/usr/share/$name/version
SPEC
  if [ -n "$post" ]; then
    printf '\n%%post\n%s\n' "$post" >>"$top/$name-$version.spec"
  fi
  rpmbuild --quiet --define "_topdir $top" --define "_rpmdir $out" \
    --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    --define "_binary_payload w9.gzdio" \
    -bb "$top/$name-$version.spec" >/dev/null
done
# rpm adds `Requires(post): /bin/sh` for a %post script; a test root's RPM
# database knows no /bin/sh (its shell came from Debian), so the repository
# offers one, and dnf and zypper pull it in as they would bash.
cat >"$top/shell.spec" <<SPEC
Name: amiboot-test-shell
Version: 1.0
Release: 1
Summary: provides /bin/sh to the RPM database of amiboot's test roots
License: MIT
BuildArch: noarch
Provides: /bin/sh

%description
provides /bin/sh to the RPM database of amiboot's test roots

%files
SPEC
rpmbuild --quiet --define "_topdir $top" --define "_rpmdir $out" \
  --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
  -bb "$top/shell.spec" >/dev/null
createrepo_c --quiet "$out" >/dev/null
