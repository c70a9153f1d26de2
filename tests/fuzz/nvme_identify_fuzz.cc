// SPDX-License-Identifier: Apache-2.0
// The 4096-byte NVMe identify-controller page (EBS volume names).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modules/nvme_identify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)amiboot::parse_nvme_identify(bytes);
  (void)amiboot::canonical_device_name(bytes.substr(0, 64));
  return 0;
}
