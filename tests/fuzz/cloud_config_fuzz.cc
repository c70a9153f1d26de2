// SPDX-License-Identifier: Apache-2.0
// A cloud-config document through the YAML parser, every module's decoder
// (what `amiboot validate` runs), the merge, and the JSON a run writes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/cloud_config.h"
#include "agent/core/json_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  amiboot::Part part{amiboot::PartType::CloudConfig, "part-001", "user-data",
                     std::string(reinterpret_cast<const char*>(data), size), ""};
  amiboot::Diagnostics out;
  auto merged = amiboot::merge_cloud_config(amiboot::Value{}, {part}, out);
  (void)amiboot::json_text(merged.config.to_json(), 2);
  for (const auto& d : out) {
    (void)amiboot::json_text(d.to_json());
  }
  return 0;
}
