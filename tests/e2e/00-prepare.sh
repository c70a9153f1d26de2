#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# e2e: a user-data script whose name sorts before `runcmd`: cloud-init runs
# it before the cloud-config's runcmd, and script.sh after it.
echo "prepared for runcmd" >/var/tmp/amiboot-e2e-prepare
