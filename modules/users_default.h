// SPDX-License-Identifier: Apache-2.0
// users: the default user, which only the instance can name. The
// distribution's defaults (from /etc/os-release) are the bottom layer under
// system_info.default_user, `user:` and the `default` entry, so this runs at
// plan time, never at validation.
#pragma once

#include <optional>

#include "agent/core/config.h"
#include "modules/os_release.h"
#include "modules/users_config.h"

namespace amiboot {

/// The default user cloud-init's distro config gives this distribution
/// (Debian admin, Ubuntu ubuntu, Amazon Linux / RHEL / Fedora ec2-user);
/// nullopt for a distribution we do not know.
std::optional<UserSpec> distro_default_user(const OsRelease& os);

/// The decoded keys with the default user resolved against `os` and put
/// first. Warns in `out` when a default user is wanted and none is known.
UsersConfig resolve_users(const UsersKeys& keys, const OsRelease& os, Diagnostics& out);

}  // namespace amiboot
