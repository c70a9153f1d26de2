// SPDX-License-Identifier: Apache-2.0
// IMDS answers: the instance identity document, and metadata as the state
// stores it (read back by the final stage).
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/core/json_text.h"
#include "agent/core/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  amiboot::Metadata md;
  if (amiboot::apply_identity_document(text, md)) {
    (void)amiboot::json_text(amiboot::to_json(md));
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded()) {
    (void)amiboot::metadata_from_json(j);
  }
  return 0;
}
