// SPDX-License-Identifier: Apache-2.0
// What a module is: one row in the one module table (modules/registry.cc)
// that binds a name, keys, stage and frequency to a typed config, the
// decoder that fills it from a cloud-config document, and a pure plan()
// that turns config and facts into actions. Modules never touch the OS; the
// executor applies their actions. Modules include only agent/core/ and
// modules/ (ARCHITECTURE.md; the build checks it).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/config.h"
#include "agent/core/metadata.h"
#include "agent/core/user_data.h"
#include "modules/actions.h"

namespace amiboot {

enum class Stage { Init, Final };
enum class Frequency { PerBoot, PerInstance, Once };

std::string_view stage_name(Stage stage);
std::string_view frequency_name(Frequency frequency);

/// A read-only view of the instance for planning. Paths are instance paths.
class SystemView {
 public:
  virtual ~SystemView() = default;
  /// Entries of an instance directory that are executable regular files,
  /// sorted by name; empty when the directory is absent.
  virtual std::vector<std::string> executables_in(const std::string& dir) const = 0;
  /// nullopt when absent or unreadable.
  virtual std::optional<std::string> read_text(const std::string& path) const = 0;
  virtual bool path_exists(const std::string& path) const = 0;
  /// Names in a folder, sorted; empty when absent.
  virtual std::vector<std::string> list(const std::string& dir) const = 0;
  /// A program on the PATH of the machine that runs the commands.
  virtual bool has_program(const std::string& name) const = 0;
};

class BlockDevices;  // the volumes module's view of block devices

/// Everything a plan may know besides its own decoded keys.
struct Facts {
  const Metadata& metadata;
  const std::vector<Part>& parts;  // decoded user-data parts
  const SystemView& system;
  /// The merged image config (/etc/amiboot/...), for the `amiboot:`
  /// settings a module reads (amiboot.packages, amiboot.volumes, ...).
  const Value& image_config;
  std::string state_dir = "/var/lib/amiboot";
  double uptime_seconds = 0;  // for final_message
  std::string timestamp;      // RFC 3339, for final_message
  bool new_instance = false;
  std::vector<std::string> failed_modules;  // so far in this boot, for readiness
  const BlockDevices* blocks = nullptr;

  /// This instance's state folder, where per-instance scripts and records live.
  std::string instance_dir() const { return state_dir + "/instances/" + metadata.instance_id; }
};

/// Where a plan's effects fall, for the init-stage lanes decided by plan
/// (modules/lanes.h). Paths as the instance sees them, each standing for
/// itself and everything below it. Files every program reads through NSS
/// (/etc/passwd, replaced in one rename by the shadow tools) are not listed
/// by readers that only resolve names.
struct PlanFootprint {
  std::vector<std::string> read;     // what the plan read to decide
  std::vector<std::string> applied;  // what its actions read or write
  std::vector<std::string> mounts;   // what its actions mount a file system over
};

struct PlanResult {
  std::vector<Action> actions;
  Diagnostics diagnostics;
  /// One line for `status --long` once the actions succeeded ("9 rules active").
  std::string summary;
  /// Apply the actions even though `diagnostics` holds errors: the errors
  /// concern parts the plan left out (a volume that never appeared), and the
  /// rest must still happen. The module is still reported failed.
  bool apply_with_errors = false;
  /// Set by rows that may be applied beside others (modules/lanes.h);
  /// unset: the plan may touch anything, and no such lane runs beside it.
  std::optional<PlanFootprint> footprint;
};

/// A module's keys decoded into its config struct, held without its type by
/// the runner; only the row that made it reads it back.
using DecodedConfig = std::shared_ptr<const void>;

struct ModuleSpec {
  std::string_view name;
  std::vector<std::string_view> keys;  // top-level config keys it owns
  Stage stage;
  Frequency frequency;
  /// Planned even when none of `keys` is set (final_message has a default).
  bool runs_without_keys;
  /// Decodes this module's keys from one document; errors and warnings go
  /// to `out`. Validation is this same call, so validate and run agree.
  DecodedConfig (*decode)(const Value& doc, Diagnostics& out);
  /// Rows with the same decoder share one decoded config (write_files and
  /// write_files_deferred): the runner decodes once per decoder, not per row.
  const void* decoder_id;
  PlanResult (*plan)(const void* config, const Facts& facts);
  /// The decoded config as JSON and back, for rows whose config has
  /// to_json/from_json (every final-stage row: a test checks). The final
  /// stage, a process of its own, plans from what the init stage decoded
  /// instead of decoding the user data again. nullptr otherwise.
  nlohmann::json (*store)(const void* config);
  DecodedConfig (*load)(const nlohmann::json& json);  // throws nlohmann::json::exception
};

/// The identity of a decoder, so rows that share one share its result.
template <auto Decode>
inline constexpr char kDecoderTag = 0;

/// Records each decoder call (its decoder_id), for the test that each key
/// is decoded once a boot. Off (nullptr) outside that test.
inline std::vector<const void*>* g_decode_log = nullptr;

template <class T>
struct OptionalOf {
  using type = void;
};
template <class T>
struct OptionalOf<std::optional<T>> {
  using type = T;
};

/// A config type nlohmann_json can write and read back.
template <class T>
concept JsonStorable = requires(const T& config, const nlohmann::json& json) {
  nlohmann::json(config);
  json.get<T>();
};

template <class Config>
nlohmann::json store_config(const void* config) {
  const Config& typed = *static_cast<const Config*>(config);
  if constexpr (!std::is_void_v<typename OptionalOf<Config>::type>) {
    return typed ? nlohmann::json(*typed) : nlohmann::json(nullptr);
  } else {
    return nlohmann::json(typed);
  }
}

template <class Config>
DecodedConfig load_config(const nlohmann::json& json) {
  using Inner = typename OptionalOf<Config>::type;
  if constexpr (!std::is_void_v<Inner>) {
    return std::make_shared<const Config>(json.is_null() ? Config{} : Config{json.get<Inner>()});
  } else {
    return std::make_shared<const Config>(json.get<Config>());
  }
}

/// A table row from a decoder `Config decode(const Value& doc, Diagnostics&)`
/// and a plan `PlanResult plan(const Config&, const Facts&)`. The decoder
/// reads only the row's keys and returns its defaults when none is set.
/// A decoder that returns std::optional<C> says "nothing to do" with
/// nullopt; its plan takes `const C&` and is then not called.
template <auto Decode, auto Plan>
ModuleSpec module_row(std::string_view name, std::vector<std::string_view> keys, Stage stage,
                      Frequency frequency, bool runs_without_keys) {
  using Config = std::invoke_result_t<decltype(Decode), const Value&, Diagnostics&>;
  using Inner = typename OptionalOf<Config>::type;
  constexpr bool kOptional = !std::is_void_v<Inner>;
  using PlanArg = std::conditional_t<kOptional, Inner, Config>;
  static_assert(std::is_invocable_r_v<PlanResult, decltype(Plan), const PlanArg&, const Facts&>,
                "plan must take the decoder's config type");
  ModuleSpec row{name,
                 std::move(keys),
                 stage,
                 frequency,
                 runs_without_keys,
                 [](const Value& doc, Diagnostics& out) -> DecodedConfig {
                   if (g_decode_log != nullptr) {
                     g_decode_log->push_back(&kDecoderTag<Decode>);
                   }
                   return std::make_shared<const Config>(Decode(doc, out));
                 },
                 &kDecoderTag<Decode>,
                 [](const void* config, const Facts& facts) -> PlanResult {
                   const Config& typed = *static_cast<const Config*>(config);
                   if constexpr (kOptional) {
                     return typed ? Plan(*typed, facts) : PlanResult{};
                   } else {
                     return Plan(typed, facts);
                   }
                 },
                 nullptr,
                 nullptr};
  if constexpr (JsonStorable<PlanArg>) {
    row.store = store_config<Config>;
    row.load = load_config<Config>;
  }
  return row;
}

/// A module with no keys of its own (scripts, boothooks, mounts).
struct NoKeys {};
inline NoKeys decode_no_keys(const Value&, Diagnostics&) {
  return {};
}
inline void to_json(nlohmann::json& json, const NoKeys&) {
  json = nullptr;
}
inline void from_json(const nlohmann::json&, NoKeys&) {}

/// The one module table, in run order.
const std::vector<ModuleSpec>& module_table();
const ModuleSpec* find_module(std::string_view name);

/// Top-level keys of cloud-init modules amiboot does not have: they get a
/// warning that names them, never an error.
bool is_cloud_init_key_we_lack(std::string_view key);

/// Our own top-level key for image settings (/etc/amiboot/amiboot.yaml).
inline constexpr std::string_view kAmibootKey = "amiboot";

}  // namespace amiboot
