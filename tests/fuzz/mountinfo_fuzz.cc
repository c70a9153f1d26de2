// SPDX-License-Identifier: Apache-2.0
// /proc/self/mountinfo as growpart and the volumes module read it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/block_devices.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)amiboot::parse_mountinfo(text);
  (void)amiboot::parse_mountinfo(text, "259:1");
  return 0;
}
