// packages: decoding of cloud-init's package keys. Installing them is not
// built yet; the runner warns that they are ignored.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

struct PackageSpec {
  std::string name;
  std::string version;  // empty = any
  bool operator==(const PackageSpec&) const = default;
};

struct PackagesConfig {
  std::vector<PackageSpec> packages;
  bool update = false;
  bool upgrade = false;
  bool reboot_if_required = false;
};

std::optional<PackagesConfig> decode_packages(const Value& config, Diagnostics& out);
void check_packages(const Value& config, Diagnostics& out);

}  // namespace amiboot
