// From image config files and cloud-config parts to the one merged config
// the modules read. A part that does not parse or breaks a module's schema
// is rejected whole; the image config is the base that user data overrides.
#pragma once

#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/system.h"
#include "agent/user_data.h"

namespace amiboot {

inline constexpr const char* kImageConfig = "/etc/amiboot/amiboot.yaml";
inline constexpr const char* kImageConfigDir = "/etc/amiboot/amiboot.yaml.d";

/// Reads amiboot.yaml, then amiboot.yaml.d/*.yaml in lexical order, merged.
/// A broken file is reported and left out.
Value load_image_config(const System& system, Diagnostics& out);

/// Checks one parsed cloud-config document against every module's decoder
/// and warns about keys no module owns. Returns false when it has errors.
bool check_cloud_config(const Value& doc, Diagnostics& out);

struct MergedConfig {
  Value config;
  int accepted_parts = 0;
  int rejected_parts = 0;
};

/// Parses and checks each CloudConfig part, merging those that pass over base.
MergedConfig merge_cloud_config(const Value& base, const std::vector<Part>& parts,
                                Diagnostics& out);

}  // namespace amiboot
