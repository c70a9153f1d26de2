// SPDX-License-Identifier: Apache-2.0
// Differential: parse_yaml() (Values from yaml-cpp's parser events) against
// the conversion of YAML::Load's Node graph it replaced
// (tests/support/yaml_node_reference.h), under the default limits and tight
// ones. A difference in Value, position or error text aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/core/config.h"
#include "tests/support/yaml_node_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using amiboot::testing::node_reference::outcome;
  std::string text(reinterpret_cast<const char*>(data), size);
  amiboot::Limits tight;
  tight.yaml_depth = 3;
  tight.yaml_nodes = 40;
  tight.user_data_bytes = 200;
  for (const amiboot::Limits& limits : {amiboot::Limits{}, tight}) {
    std::string expected =
        outcome(amiboot::testing::node_reference::parse_yaml(text, "doc", limits));
    std::string got = outcome(amiboot::parse_yaml(text, "doc", limits));
    if (got != expected) {
      std::fprintf(stderr, "Node conversion: %s\nevents:          %s\n", expected.c_str(),
                   got.c_str());
      std::abort();
    }
  }
  return 0;
}
