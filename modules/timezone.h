// SPDX-License-Identifier: Apache-2.0
// timezone: the instance's time zone (cloud-init's cc_timezone): /etc/localtime
// a symlink to ../usr/share/zoneinfo/<zone>, relative as systemd makes it (so
// it also holds inside a root), and /etc/timezone where the distribution keeps
// one (Debian, Ubuntu).
//
// Init stage, per instance. cloud-init runs it in its config stage, after the
// services of the boot have started; here it runs before amiboot.service is
// ready, so cron, the journal's readers and the services ordered after us read
// the new zone when they start instead of keeping UTC until their restart.
// The link costs no time.
#pragma once

#include <optional>
#include <string>

#include "modules/module.h"

namespace amiboot {

struct TimezoneConfig {
  std::string zone;  // "Europe/Berlin"
  Position pos;      // where the user data set it, for the plan's "unknown zone"
};

/// nullopt when `timezone` is absent, null or malformed (reported in `out`).
std::optional<TimezoneConfig> decode_timezone(const Value& doc, Diagnostics& out);

/// An error naming the zone when the target has no /usr/share/zoneinfo/<zone> file.
PlanResult plan_timezone(const TimezoneConfig& config, const Facts& facts);

}  // namespace amiboot
