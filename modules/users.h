// SPDX-License-Identifier: Apache-2.0
// users: users and groups (cloud-init's cc_users_groups) and SSH authorized
// keys for the default user and root (cc_ssh's key half). The
// default user comes from system_info.default_user (image config) over the
// distribution's defaults from /etc/os-release, and gets the IMDS keys.
// This file is the planner; decoding is in users_config.h and the default
// user's resolution in users_default.h.
#pragma once

#include <optional>

#include "modules/authorized_keys.h"
#include "modules/module.h"
#include "modules/users_config.h"
#include "modules/users_default.h"

namespace amiboot {

inline constexpr const char* kSudoersFile = "/etc/sudoers.d/90-amiboot-users";

/// Resolves the default user against the instance's /etc/os-release and
/// plans the accounts, sudo rules and authorized keys. Nothing
/// to do for a config with errors (nullopt).
PlanResult plan_users(const UsersKeys& config, const Facts& facts);

}  // namespace amiboot
