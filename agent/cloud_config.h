// SPDX-License-Identifier: Apache-2.0
// From image config files and cloud-config parts to the one merged config
// the modules read. A part that does not parse or breaks a module's schema
// is rejected whole; the image config is the base that user data overrides.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/config.h"
#include "agent/core/mergers.h"
#include "agent/core/user_data.h"
#include "agent/system.h"
#include "modules/module.h"

namespace amiboot {

inline constexpr const char* kImageConfig = "/etc/amiboot/amiboot.yaml";
inline constexpr const char* kImageConfigDir = "/etc/amiboot/amiboot.yaml.d";

/// One document's typed configs, by decoder (ModuleSpec::decoder_id), for
/// the modules whose keys it sets.
using DecodedConfigs = std::map<const void*, DecodedConfig>;

/// Decodes one parsed cloud-config document with each module whose keys it
/// sets (validation is this decoding) and warns about keys no module owns.
/// nullopt when it has errors.
std::optional<DecodedConfigs> decode_cloud_config(const Value& doc, Diagnostics& out);
inline bool check_cloud_config(const Value& doc, Diagnostics& out) {
  return decode_cloud_config(doc, out).has_value();
}

/// The accepted documents merged, and each module's typed config.
/// A module's keys are decoded once: when one document sets them, its typed
/// config is that document's; only keys that several documents set are
/// decoded again, from the merge (cloud-init's merge works on the YAML).
///
/// As in cloud-init, the user-data parts are merged with each other first,
/// each with its merge spec (agent/core/mergers.h), starting from an empty
/// map; that merge then goes over the image config recursively: maps merge,
/// user data's lists and scalars win (util.mergemanydict).
class ModuleConfigs {
 public:
  /// An accepted image config document and what decode_cloud_config() made
  /// of it: merged over the image config before it, maps recursively, its
  /// lists and scalars replacing the earlier ones.
  void add(const Value& doc, DecodedConfigs decoded);
  /// An accepted user-data cloud-config document, merged into the parts
  /// before it with `how`. False, with the error in `out` and nothing
  /// added, when cloud-init's merge would fail (appending a map to a list).
  bool add_part(const Value& doc, DecodedConfigs decoded, const MergeSpec& how, Diagnostics& out);
  const Value& merged() const;
  /// The typed config for `module`'s decoder; errors of a decode of the
  /// merge go to `out` (on every call), and the result is then nullptr.
  DecodedConfig get(const ModuleSpec& module, Diagnostics& out);
  /// Whether any of the module's keys is set (to something but null).
  bool configured(const ModuleSpec& module) const;

  /// A module's config as an earlier stage decoded it (load_stage_configs).
  void restore(const ModuleSpec& module, DecodedConfig config, bool configured, Diagnostics errors);

 private:
  struct Decoded {
    int documents = 0;
    bool resolved = false;  // config and errors are final
    DecodedConfig config;
    Diagnostics errors;
  };
  void count(DecodedConfigs decoded);

  Value m_image;      // the image config documents, merged
  Value m_user_data;  // the user-data parts, merged; null before the first
  /// The accepted parts, to merge again should a merge fail half-way (the
  /// merge works in place on m_user_data, so that it stays linear).
  std::vector<std::pair<Value, MergeSpec>> m_parts;
  mutable Value m_merged;  // m_user_data over m_image, made when asked for
  mutable bool m_merged_stale = false;
  std::map<const void*, Decoded> m_by_decoder;
  std::map<std::string_view, bool> m_restored_configured;  // by row name
};

/// What a later stage of this boot plans from, as decoded now: for each row
/// of `stage`, whether it is configured and its typed config, and the image
/// config (the `amiboot:` settings a module reads). The final stage runs in
/// a process of its own; with this it does not decode the user data again.
/// nullopt when something cannot be written as JSON (text that is not
/// UTF-8); that stage then decodes the parts itself.
std::optional<std::string> store_stage_configs(ModuleConfigs& configs, Stage stage,
                                               const Value& image_config);

struct StageConfigs {
  ModuleConfigs modules;
  Value image_config;
};
/// The reverse; an error when `text` is not what store_stage_configs()
/// wrote for this module table.
Result<StageConfigs> load_stage_configs(const std::string& text, Stage stage);

/// Reads amiboot.yaml, then amiboot.yaml.d/*.yaml in lexical order, merged.
/// A broken file is reported and left out.
ModuleConfigs load_image_config(const System& system, Diagnostics& out);

struct MergedConfig {
  ModuleConfigs modules;
  Value config;  // modules.merged(), for callers that only read the YAML
  int accepted_parts = 0;
  int rejected_parts = 0;
  std::vector<std::string> rejected;  // the rejected parts' labels
};

/// Parses and checks each CloudConfig part, merging those that pass over
/// base. A part merges with the spec of its own `merge_how` / `merge_type`
/// key; mergers for the types that names none for come from its MIME
/// Merge-Type header (cloud-init joins the two, the key's first); with
/// neither, cloud-init's default dict(replace)+list()+str(). A malformed
/// spec rejects the part, with the error's position. `limits` bounds each
/// part's YAML and the write_files content of all parts together.
MergedConfig merge_cloud_config(ModuleConfigs base, const std::vector<Part>& parts,
                                Diagnostics& out, const Limits& limits = {});
/// The same over a plain base document (validate has none: Value{}).
MergedConfig merge_cloud_config(const Value& base, const std::vector<Part>& parts, Diagnostics& out,
                                const Limits& limits = {});

}  // namespace amiboot
