// SPDX-License-Identifier: Apache-2.0
// cloud-init's templates for the NTP clients' configuration files, by
// cloud-init's template name ("chrony.conf.debian", "ntp.conf.rhel",
// "timesyncd.conf"); each starts with its `## template:jinja` line.
#pragma once

#include <string_view>

namespace amiboot {

/// The template's text, or nullptr when there is none by that name.
const char* ntp_template(std::string_view name);

}  // namespace amiboot
