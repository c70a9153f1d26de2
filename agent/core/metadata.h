// SPDX-License-Identifier: Apache-2.0
// What amiboot knows about the instance, as a plain value. Filled by the IMDS
// client or the seed directory; cached under the instance's state folder.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/result.h"

namespace amiboot {

struct Metadata {
  std::string instance_id;
  std::string region;
  std::string availability_zone;
  std::string instance_type;
  std::string image_id;
  std::string private_ip;
  std::string local_hostname;
  std::vector<std::string> public_keys;  // OpenSSH lines, in IMDS index order
  /// block-device-mapping name -> device name as served ("ebs1" -> "sdf").
  std::map<std::string, std::string> block_device_mapping;
  std::string source;  // "imds", "seed:<dir>"

  bool operator==(const Metadata&) const = default;
};

/// Everything a source yields: metadata, and the raw user data as served
/// (nullopt when there is none, e.g. a 404 from IMDS).
struct SourceData {
  Metadata metadata;
  std::optional<std::string> user_data;
};

/// Fills the identity fields from dynamic/instance-identity/document.
Status apply_identity_document(std::string_view json_text, Metadata& md);

nlohmann::json to_json(const Metadata& md);
Result<Metadata> metadata_from_json(const nlohmann::json& j);

}  // namespace amiboot
