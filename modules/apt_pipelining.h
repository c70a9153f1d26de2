// SPDX-License-Identifier: Apache-2.0
// apt_pipelining: APT's HTTP pipeline depth (cloud-init's
// cc_apt_pipelining), in cloud-init's file
// /etc/apt/apt.conf.d/90cloud-init-pipelining: `false` writes depth 0 (some
// servers, S3 among them, pipeline badly), a number 0 to 5 that depth; `os`
// (the default; `none` and `unchanged` are its deprecated names) and `true`
// (APT's own default already pipelines) leave APT alone. Only on apt systems:
// elsewhere the key is shared user data with nothing to do.
//
// Init stage, per instance (cloud-init: config stage): before the final
// stage's packages.
#pragma once

#include <optional>
#include <string>

#include "modules/module.h"

namespace amiboot {

struct AptPipeliningConfig {
  int depth = 0;  // Acquire::http::Pipeline-Depth
};

/// nullopt when the key is absent or leaves APT alone, or when it is
/// malformed (reported in `out`).
std::optional<AptPipeliningConfig> decode_apt_pipelining(const Value& doc, Diagnostics& out);

PlanResult plan_apt_pipelining(const AptPipeliningConfig& config, const Facts& facts);

}  // namespace amiboot
