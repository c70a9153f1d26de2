// SPDX-License-Identifier: Apache-2.0
// write_files: files from user data (cc_write_files), with cloud-init's
// encodings, owner, permissions, append, defer and `source` (content fetched
// from a URL, `content` the fallback when the fetch fails).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

/// `source: {uri, headers}`: where the content comes from. The URI is
/// http://, https:// or file:///path (a file on the target system, as
/// cloud-init reads it); its query and the header values may be credentials.
struct WriteFileSource {
  std::string uri;
  std::map<std::string, std::string> headers;
  bool operator==(const WriteFileSource&) const = default;
};

struct WriteFileEntry {
  std::string path;
  std::string content;  // decoded
  std::string owner = "root:root";
  mode_t mode = 0644;
  bool append = false;
  bool defer = false;
  std::optional<WriteFileSource> source;
  /// `content` was given (not absent, not null): with a source, it is what
  /// is written when the fetch fails; without one, an empty file is written
  /// either way, as cloud-init does.
  bool has_content = false;
  bool operator==(const WriteFileEntry&) const = default;
};
/// For the final stage's stored config (0600, it may hold the source's
/// headers); the content as base64 (it may be binary).
void to_json(nlohmann::json& json, const WriteFileEntry& entry);
void from_json(const nlohmann::json& json, WriteFileEntry& entry);

/// nullopt when write_files is absent or has errors (reported in `out`).
std::optional<std::vector<WriteFileEntry>> decode_write_files(const Value& config,
                                                              Diagnostics& out);

/// Adds the decoded size of `config`'s write_files content (base64 and gzip
/// undone) to `used`; false, with an error at the entry that passes `limit`,
/// once the sum exceeds it. Run before decoding, so that a gzip bomb spread
/// over many entries or parts is refused in constant memory (gzip is
/// measured, not kept). Malformed entries are left to the decoder.
bool check_write_files_size(const Value& config, std::size_t& used, std::size_t limit,
                            Diagnostics& out);

/// Entries without defer (init stage).
PlanResult plan_write_files(const std::vector<WriteFileEntry>& entries, const Facts& facts);
/// Entries with defer: true (final stage, after users exist).
PlanResult plan_write_files_deferred(const std::vector<WriteFileEntry>& entries,
                                     const Facts& facts);

}  // namespace amiboot
