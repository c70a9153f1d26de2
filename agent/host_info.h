// SPDX-License-Identifier: Apache-2.0
// What cloud-init's instance data says about the machine itself (its
// distribution and kernel), which metadata does not carry.
#pragma once

#include "agent/core/instance_data.h"
#include "agent/system.h"

namespace amiboot {

/// The target's os-release (under --root, the root's) and this kernel's uname.
HostInfo read_host_info(const System& system);

}  // namespace amiboot
