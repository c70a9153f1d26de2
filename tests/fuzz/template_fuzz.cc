// SPDX-License-Identifier: Apache-2.0
// The Jinja subset of `## template: jinja` parts.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/core/instance_data.h"
#include "agent/core/metadata.h"
#include "agent/core/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::json context = amiboot::instance_data(amiboot::Metadata{}, {});
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)amiboot::render_jinja_user_data("## template: jinja\n" + text, context, "user-data");
  return 0;
}
