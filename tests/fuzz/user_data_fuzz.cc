// SPDX-License-Identifier: Apache-2.0
// User data as served: gzip, MIME, first-line sniffing, archives, templates.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/core/instance_data.h"
#include "agent/core/metadata.h"
#include "agent/core/user_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::json context = amiboot::instance_data(amiboot::Metadata{}, {});
  amiboot::UserDataOptions options;
  options.template_context = [] { return context; };
  (void)amiboot::decode_user_data(std::string(reinterpret_cast<const char*>(data), size), options);
  return 0;
}
