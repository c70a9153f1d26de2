// SPDX-License-Identifier: Apache-2.0
// /etc/os-release of the target.
#include <cstddef>
#include <cstdint>
#include <string>

#include "modules/os_release.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)amiboot::parse_os_release(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
