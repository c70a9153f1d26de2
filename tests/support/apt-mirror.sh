#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Prints the Debian mirror this host's apt uses for SUITE (default bookworm):
# deb822 .sources files first, then one-line .list files; any Debian
# (non-security) source otherwise. Prints nothing when there is none. Test
# images are built from it, so the repository never names a registry host.
#
#   apt-mirror.sh [SUITE]
set -euo pipefail
python3 - "${1:-bookworm}" <<'EOF'
import glob, re, sys
suite = sys.argv[1]
exact, fallback = [], []
def consider(types, uris, suites):
    if "deb" not in types:
        return
    for uri in uris:
        if "security" in uri:
            continue
        for s in suites:
            if s == suite:
                exact.append(uri)
            elif "-" not in s and "/" not in s:
                fallback.append(uri)
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(path).read()):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        consider(fields.get("types", "").split(), fields.get("uris", "").split(),
                 fields.get("suites", "").split())
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        line = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0]).split()
        if len(line) >= 3:
            consider([line[0]], [line[1]], [line[2]])
found = exact or fallback
if found:
    print(found[0].rstrip("/"))
EOF
