#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The script half of examples/user-data: runs once per instance, in the final stage.
set -eu
echo "user-data script ran for ${INSTANCE_ID}" > "${AMIBOOT_ROOT}/var/tmp/amiboot-script"
echo "hello from the example script"
