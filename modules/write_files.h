// write_files: files from user data (cc_write_files), with cloud-init's
// encodings, owner, permissions, append and defer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

struct WriteFileEntry {
  std::string path;
  std::string content;  // decoded
  std::string owner = "root:root";
  mode_t mode = 0644;
  bool append = false;
  bool defer = false;
  bool operator==(const WriteFileEntry&) const = default;
};
/// For the final stage's stored config; the content as base64 (it may be binary).
void to_json(nlohmann::json& json, const WriteFileEntry& entry);
void from_json(const nlohmann::json& json, WriteFileEntry& entry);

/// nullopt when write_files is absent or has errors (reported in `out`).
std::optional<std::vector<WriteFileEntry>> decode_write_files(const Value& config,
                                                              Diagnostics& out);

/// Entries without defer (init stage).
PlanResult plan_write_files(const std::vector<WriteFileEntry>& entries, const Facts& facts);
/// Entries with defer: true (final stage, after users exist).
PlanResult plan_write_files_deferred(const std::vector<WriteFileEntry>& entries,
                                     const Facts& facts);

}  // namespace amiboot
