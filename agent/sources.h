// SPDX-License-Identifier: Apache-2.0
// Where metadata and user data come from: IMDSv2 (default) or a NoCloud-style
// seed directory (`--seed DIR` with meta-data and user-data files).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/core/metadata.h"
#include "agent/core/result.h"
#include "agent/core/settings.h"
#include "agent/system.h"

namespace amiboot {

/// meta-data (YAML: instance-id, local-hostname, public-keys,
/// block-device-mapping, region, availability-zone...) and optional user-data.
/// `dir` is a host path (not under --root), read through System.
Result<SourceData> read_seed(const System& system, const std::string& dir);

/// DMI and hypervisor hints that this machine is an EC2 instance, read
/// through System (host /sys, never under --root).
bool looks_like_ec2(const System& system);

struct ImdsFetch {
  SourceData data;
  int requests = 0;
  std::vector<std::string> warnings;  // optional reads that failed
};

/// Fetches from IMDS with the image's settings. `log` gets retry notes.
Result<ImdsFetch> fetch_imds(const std::string& url, const Settings& settings,
                             std::chrono::milliseconds deadline,
                             const std::function<void(const std::string&)>& log);

}  // namespace amiboot
