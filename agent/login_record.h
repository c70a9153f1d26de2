// SPDX-License-Identifier: Apache-2.0
// The init stage's half of the login order (agent/login_order.h): after its
// modules, it records whether the next boot of this instance may let logins
// start without waiting for it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "agent/system.h"

namespace amiboot {

/// `init_modules`: the status document's init-stage module records. Writes
/// the instance id to the record (only when it changes: a same-instance
/// reboot costs no fsync) or removes it.
Status record_login_order(System& system, const std::string& instance_id,
                          const nlohmann::json& init_modules);

}  // namespace amiboot
