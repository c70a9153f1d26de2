// SPDX-License-Identifier: Apache-2.0
// /etc/fstab as the mounts module reads and rewrites it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "modules/fstab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = amiboot::parse_fstab(text);
  (void)parsed;
  (void)amiboot::merge_fstab(text, {});
  return 0;
}
