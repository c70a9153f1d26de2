// SPDX-License-Identifier: Apache-2.0
// User data as served -> typed parts: gzip, MIME multipart, first-line sniffing,
// #include fetching. Nothing here runs anything.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/codecs.h"
#include "agent/core/limits.h"
#include "agent/core/result.h"

namespace amiboot {

enum class PartType {
  CloudConfig,
  ShellScript,
  Boothook,
  IncludeUrl,
  Unknown,
  /// text/x-shellscript-per-boot|per-instance|per-once: written to
  /// /var/lib/amiboot/scripts/per-<x>/ by the scripts_per_<x> module and run
  /// with that folder's scripts (cloud-init's /var/lib/cloud/scripts/per-<x>).
  ScriptPerBoot,
  ScriptPerInstance,
  ScriptPerOnce,
};

struct Part {
  PartType type = PartType::Unknown;
  std::string name;  // MIME filename or "part-NNN"; used for script file names
  std::string
      label;  // where it came from, for diagnostics: "user-data", "user-data part 2 (config.txt)"
  std::string content;  // decoded body; scripts have CRLF already turned into LF
  /// The MIME part's Merge-Type header, else its X-Merge-Type (the first
  /// that is not empty), as written: how a cloud-config part merges into
  /// the parts before it (agent/core/mergers.h). "" when it has neither.
  std::string merge_type;
  bool operator==(const Part&) const = default;
};

struct DecodedUserData {
  std::vector<Part> parts;
  std::vector<std::string> warnings;  // unrecognized parts, skipped includes
  /// Parts rejected whole, with where and why (a template that does not
  /// render); the others are decoded.
  std::vector<std::string> errors;
};

struct UserDataOptions {
  /// user_data_bytes (all inflating and fetching in one decode together),
  /// mime_parts, includes (fetches, all include levels together, so a list of
  /// includes that include lists cannot fan out without bound), and the
  /// YAML limits of #cloud-config-archive documents. The include deadline is
  /// the caller's `fetch`.
  Limits limits;
  int max_include_depth = 3;
  /// Fetches an #include URL; empty means includes are skipped with a warning
  /// (validate runs offline).
  std::function<Result<std::string>(const std::string& url)> fetch;
  /// Fetches an #include-once URL (cloud-init: fetched once per instance,
  /// then read from the instance's state); empty means `fetch` is used.
  std::function<Result<std::string>(const std::string& url)> fetch_once;
  /// The ami-launch-index `#cloud-config-archive` items' `launch-index` is
  /// compared with: amiboot's metadata has none, so 0.
  int launch_index = 0;
  /// Makes cloud-init's instance data (agent/core/instance_data.h) that
  /// `## template: jinja` parts render with, once, when the first such part
  /// is met: most user data has none, and the host facts behind it cost
  /// reads. Empty rejects template parts.
  std::function<nlohmann::json()> template_context;
};

/// Decodes raw user data. Errors are fatal for the whole user data (a gzip
/// bomb, a corrupt gzip stream, a limit hit); a part that cannot be used (a
/// template that does not render, an include that failed) is in `errors`;
/// parts we skip as cloud-init does are warnings.
Result<DecodedUserData> decode_user_data(const std::string& raw, const UserDataOptions& options);

std::string_view part_type_name(PartType type);

/// An #include URL fit for logs and labels: user:password@ and the query
/// (presigned S3 URLs carry their signature there) are cut off.
std::string redact_url(std::string_view url);

}  // namespace amiboot
