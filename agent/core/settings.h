// SPDX-License-Identifier: Apache-2.0
// amiboot's own image settings: the `amiboot:` key of /etc/amiboot/amiboot.yaml.
#pragma once

#include <chrono>
#include <string>

#include "agent/core/config.h"
#include "agent/core/limits.h"

namespace amiboot {

struct Settings {
  std::string imds_url = "http://169.254.169.254";  // `endpoint: ipv6` -> http://[fd00:ec2::254]
  std::chrono::milliseconds imds_deadline{120000};
  std::chrono::milliseconds imds_request_timeout{2000};
  /// Off EC2 (no Amazon DMI data) amiboot gives up after this instead.
  std::chrono::milliseconds off_ec2_deadline{3000};
  bool allow_imdsv1 = false;
  /// Readiness callbacks and write_files sources: no retry starts later
  /// than this after the first try (`http: {retry_deadline_seconds}`).
  std::chrono::seconds http_retry_deadline{90};
  Limits limits;
};

/// Decodes `amiboot:` from the merged image config; errors go to `out` and
/// leave the defaults in place.
Settings decode_settings(const Value& image_config, Diagnostics& out);

}  // namespace amiboot
