// SPDX-License-Identifier: Apache-2.0
// set_passwords: passwords and sshd's PasswordAuthentication (cloud-init's
// cc_set_passwords): chpasswd.users (text, hash or RANDOM), the deprecated
// chpasswd.list, the top-level `password` for the default user, expiry
// (chpasswd.expire, default true) and ssh_pwauth. Runs after users, so the
// users it names exist. Its keys are decoded with the users keys
// (set_passwords_config.h): the row shares the users decoder.
#pragma once

#include "modules/module.h"
#include "modules/users_config.h"

namespace amiboot {

/// chpasswd for each password (clear text on stdin, hashes with
/// --encrypted), random ones made and shown on the console only when the
/// action runs, `passwd --expire` for each user when chpasswd.expire, and
/// PasswordAuthentication from ssh_pwauth (sshd_config.h). Setting a
/// password never turns PasswordAuthentication on by itself.
PlanResult plan_set_passwords(const UsersKeys& config, const Facts& facts);

}  // namespace amiboot
