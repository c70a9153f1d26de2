// SPDX-License-Identifier: Apache-2.0
// Bounds on what untrusted input may make amiboot do, each settable under
// `amiboot.limits` in /etc/amiboot/amiboot.yaml. A limit hit is an error that
// names the setting; the user data is then rejected whole and the baseline
// (default user, IMDS keys) still runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace amiboot {

struct Limits {
  /// YAML nodes of one document after alias expansion: a 492-byte
  /// "billion laughs" expands to 10^9 nodes; yaml-cpp expands aliases.
  std::size_t yaml_nodes = 100000;
  /// Nesting of YAML collections (lists and maps within each other).
  int yaml_depth = 64;
  /// Decoded user data: gzip inflated, includes fetched, and each YAML
  /// document's scalars after alias expansion.
  std::size_t user_data_bytes = 16 << 20;
  /// Decoded `write_files` content (b64 and gz undone) over all user data.
  std::size_t write_files_bytes = 32 << 20;
  /// MIME parts and #cloud-config-archive items, nested ones included.
  int mime_parts = 1000;
  /// #include URLs fetched in one boot, all levels together.
  int includes = 32;
  /// One deadline for all #include URLs together.
  std::chrono::milliseconds include_time{60000};
};

/// "amiboot.limits.yaml_nodes": how errors name a limit, so the operator
/// knows what to raise.
inline std::string limit_setting(const std::string& name) {
  return "amiboot.limits." + name;
}

}  // namespace amiboot
