// SPDX-License-Identifier: Apache-2.0
#include "agent/cloud_config.h"

#include <algorithm>

#include "agent/core/json_text.h"
#include "modules/module.h"
#include "modules/write_files.h"

namespace amiboot {

namespace {

bool owned_by_a_module(std::string_view key) {
  for (const auto& m : module_table()) {
    if (std::find(m.keys.begin(), m.keys.end(), key) != m.keys.end()) {
      return true;
    }
  }
  return false;
}

void warn_unowned_keys(const Value& doc, Diagnostics& out) {
  for (const auto& e : doc.entries) {
    if (owned_by_a_module(e.key) || e.key == kAmibootKey || is_merge_key(e.key)) {
      continue;
    }
    std::string message = is_cloud_init_key_we_lack(e.key)
                              ? "amiboot has no module for this cloud-init key; ignored"
                              : "unknown key; ignored";
    out.push_back(Diagnostic{Diagnostic::Severity::Warning, e.key_pos, e.key, message});
  }
}

// cloud-init pops merge_how and merge_type before it merges a document.
void drop_merge_keys(Value& doc) {
  auto& entries = doc.entries;
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [](const Value::Entry& e) { return is_merge_key(e.key); }),
                entries.end());
}

// The spec `part` merges with: its own key's mergers, then its header's for
// the types the key names none for, else cloud-init's default. nullopt when
// either is malformed (the errors are in `out`).
std::optional<MergeSpec> part_merge_spec(const Value& doc, const Part& part, Diagnostics& out) {
  auto spec = merge_spec_of(doc, out);
  if (!spec) {
    return std::nullopt;
  }
  if (!part.merge_type.empty()) {
    auto header = parse_merge_spec(part.merge_type, Position{part.label}, "Merge-Type", out);
    if (!header) {
      return std::nullopt;
    }
    spec->add_missing(*header);
  }
  if (spec->empty()) {
    return default_user_data_mergers();
  }
  if (!spec->dict) {
    out.push_back(Diagnostic{Diagnostic::Severity::Warning,
                             {part.label},
                             "",
                             "the merge spec " + spec->to_string() +
                                 " has no dict merger, so as in cloud-init nothing from this "
                                 "part is merged"});
  }
  return spec;
}

bool sets_a_key(const ModuleSpec& m, const Value& doc) {
  return std::any_of(m.keys.begin(), m.keys.end(),
                     [&](std::string_view k) { return doc.get(k) != nullptr; });
}

}  // namespace

std::optional<DecodedConfigs> decode_cloud_config(const Value& doc, Diagnostics& out) {
  if (doc.is_null()) {
    return DecodedConfigs{};
  }
  if (!doc.is_map()) {
    out.push_back(Diagnostic{Diagnostic::Severity::Error, doc.pos, "",
                             "expected a map of cloud-config keys, got " + doc.type_name()});
    return std::nullopt;
  }
  Diagnostics found;
  DecodedConfigs decoded;
  for (const auto& m : module_table()) {
    if (sets_a_key(m, doc) && decoded.count(m.decoder_id) == 0) {
      decoded[m.decoder_id] = m.decode(doc, found);
    }
  }
  warn_unowned_keys(doc, found);
  bool ok = !has_errors(found);
  out.insert(out.end(), found.begin(), found.end());
  if (!ok) {
    return std::nullopt;
  }
  return decoded;
}

void ModuleConfigs::count(DecodedConfigs decoded) {
  for (auto& [id, config] : decoded) {
    Decoded& d = m_by_decoder[id];
    ++d.documents;
    d.config = std::move(config);
  }
}

void ModuleConfigs::add(const Value& doc, DecodedConfigs decoded) {
  m_image = merge(m_image, doc);
  m_merged_stale = true;
  count(std::move(decoded));
}

const Value& ModuleConfigs::merged() const {
  if (m_merged_stale) {
    m_merged = m_user_data.is_null() ? m_image : merge(m_image, m_user_data);
    m_merged_stale = false;
  }
  return m_merged;
}

bool ModuleConfigs::add_part(const Value& doc, DecodedConfigs decoded, const MergeSpec& how,
                             Diagnostics& out) {
  // cloud-init's handler starts each boot's user data from an empty map.
  Value before = m_user_data.is_null() ? Value{Value::Kind::Map} : std::move(m_user_data);
  auto merged = merge_values(std::move(before), doc, how, out);
  if (!merged) {
    // The failed merge consumed the earlier parts' merge: make it again.
    m_user_data = Value{};
    Diagnostics again;
    for (const auto& [part, spec] : m_parts) {
      Value base = m_user_data.is_null() ? Value{Value::Kind::Map} : std::move(m_user_data);
      m_user_data = merge_values(std::move(base), part, spec, again).value_or(Value{});
    }
    return false;
  }
  m_parts.emplace_back(doc, how);
  m_user_data = std::move(*merged);
  m_merged_stale = true;
  // A module whose keys only this document sets plans from this document's
  // config: a document's keys that no earlier one has are taken as they
  // are by every dict merger. Without one, cloud-init takes nothing from
  // the document (the earlier map is kept), and neither may its configs.
  if (how.dict) {
    count(std::move(decoded));
  }
  return true;
}

DecodedConfig ModuleConfigs::get(const ModuleSpec& module, Diagnostics& out) {
  Decoded& d = m_by_decoder[module.decoder_id];
  if (!d.resolved) {
    d.resolved = true;
    if (d.documents != 1) {
      // No document set these keys (the module's defaults), or several did
      // and only the merge says what they mean together.
      Diagnostics found;
      d.config = module.decode(d.documents == 0 ? Value{} : merged(), found);
      // Warnings were reported with each document already.
      for (auto& diagnostic : found) {
        if (diagnostic.severity == Diagnostic::Severity::Error) {
          d.errors.push_back(std::move(diagnostic));
        }
      }
      if (!d.errors.empty()) {
        d.config = nullptr;
      }
    }
  }
  out.insert(out.end(), d.errors.begin(), d.errors.end());
  return d.config;
}

bool ModuleConfigs::configured(const ModuleSpec& module) const {
  if (auto it = m_restored_configured.find(module.name); it != m_restored_configured.end()) {
    return it->second;
  }
  return std::any_of(module.keys.begin(), module.keys.end(), [&](std::string_view k) {
    const Value* v = merged().get(k);
    return v != nullptr && !v->is_null();
  });
}

void ModuleConfigs::restore(const ModuleSpec& module, DecodedConfig config, bool configured,
                            Diagnostics errors) {
  m_by_decoder[module.decoder_id] = Decoded{1, true, std::move(config), std::move(errors)};
  m_restored_configured[module.name] = configured;
}

namespace {

nlohmann::json diagnostic_json(const Diagnostic& d) {
  return {
      {"pos", {d.pos.source, d.pos.line, d.pos.column}}, {"path", d.path}, {"message", d.message}};
}

Diagnostic diagnostic_from(const nlohmann::json& j) {
  const auto& pos = j.at("pos");
  return Diagnostic{Diagnostic::Severity::Error,
                    {pos.at(0).get<std::string>(), pos.at(1).get<int>(), pos.at(2).get<int>()},
                    j.at("path").get<std::string>(),
                    j.at("message").get<std::string>()};
}

constexpr int kStageConfigsVersion = 1;

}  // namespace

std::optional<std::string> store_stage_configs(ModuleConfigs& configs, Stage stage,
                                               const Value& image_config) {
  nlohmann::json modules = nlohmann::json::object();
  for (const auto& m : module_table()) {
    if (m.stage != stage) {
      continue;
    }
    if (m.store == nullptr) {
      return std::nullopt;  // a row the registry test should have caught
    }
    Diagnostics errors;
    DecodedConfig config = configs.get(m, errors);
    nlohmann::json entry = {{"configured", configs.configured(m)},
                            {"config", config ? m.store(config.get()) : nlohmann::json(nullptr)},
                            {"errors", nlohmann::json::array()}};
    for (const auto& e : errors) {
      entry["errors"].push_back(diagnostic_json(e));
    }
    modules[std::string(m.name)] = std::move(entry);
  }
  nlohmann::json doc = {{"version", kStageConfigsVersion},
                        {"stage", stage_name(stage)},
                        {"image_config", value_to_stored_json(image_config)},
                        {"modules", std::move(modules)}};
  try {
    // Strict: replacing bytes that are not UTF-8 would change a path or a
    // file's owner behind the user's back.
    return json_text(doc);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Result<StageConfigs> load_stage_configs(const std::string& text, Stage stage) {
  try {
    auto doc = nlohmann::json::parse(text);
    if (doc.at("version") != kStageConfigsVersion || doc.at("stage") != stage_name(stage)) {
      return error("stored configs are of another version or stage");
    }
    StageConfigs out;
    out.image_config = value_from_stored_json(doc.at("image_config"));
    const auto& modules = doc.at("modules");
    for (const auto& m : module_table()) {
      if (m.stage != stage) {
        continue;
      }
      if (m.load == nullptr || !modules.contains(m.name)) {
        return error("no stored config for module " + std::string(m.name));
      }
      const auto& entry = modules.at(std::string(m.name));
      Diagnostics errors;
      for (const auto& e : entry.at("errors")) {
        errors.push_back(diagnostic_from(e));
      }
      DecodedConfig config = errors.empty() ? m.load(entry.at("config")) : nullptr;
      out.modules.restore(m, std::move(config), entry.at("configured").get<bool>(),
                          std::move(errors));
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return error(std::string("stored configs are corrupt: ") + e.what());
  }
}

ModuleConfigs load_image_config(const System& system, Diagnostics& out) {
  std::vector<std::string> files;
  if (system.exists(kImageConfig)) {
    files.push_back(kImageConfig);
  }
  if (auto names = system.list_dir(kImageConfigDir)) {
    for (const auto& name : *names) {
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0) {
        files.push_back(std::string(kImageConfigDir) + "/" + name);
      }
    }
  }
  ModuleConfigs merged;
  for (const auto& file : files) {
    auto text = system.read_file(file);
    if (!text) {
      out.push_back(Diagnostic{Diagnostic::Severity::Error, {file}, "", text.error().message});
      continue;
    }
    auto doc = parse_yaml(*text, file);
    if (!doc) {
      out.push_back(
          Diagnostic{Diagnostic::Severity::Error, {}, "", doc.error().message + " (file ignored)"});
      continue;
    }
    auto decoded = decode_cloud_config(*doc, out);
    if (!decoded) {
      out.push_back(Diagnostic{Diagnostic::Severity::Error,
                               {file},
                               "",
                               "this image config file has errors; it is ignored"});
      continue;
    }
    for (const auto& e : doc->entries) {
      if (is_merge_key(e.key)) {
        out.push_back(Diagnostic{Diagnostic::Severity::Warning, e.key_pos, e.key,
                                 "merge specs apply to user data; image config files always "
                                 "merge maps recursively, a later file's lists and scalars "
                                 "winning; ignored"});
      }
    }
    drop_merge_keys(*doc);
    merged.add(*doc, std::move(*decoded));
  }
  return merged;
}

MergedConfig merge_cloud_config(ModuleConfigs base, const std::vector<Part>& parts,
                                Diagnostics& out, const Limits& limits) {
  MergedConfig result{std::move(base)};
  std::size_t write_files_bytes = 0;
  auto reject = [&](const Part& part) {
    out.push_back(Diagnostic{Diagnostic::Severity::Error,
                             {part.label},
                             "",
                             "cloud-config rejected whole; nothing from it is applied"});
    ++result.rejected_parts;
    result.rejected.push_back(part.label);
  };
  for (const Part& part : parts) {
    if (part.type != PartType::CloudConfig) {
      continue;
    }
    auto doc = parse_yaml(part.content, part.label, limits);
    if (!doc) {
      out.push_back(Diagnostic{Diagnostic::Severity::Error, {}, "", doc.error().message});
      reject(part);
      continue;
    }
    if (!check_write_files_size(*doc, write_files_bytes, limits.write_files_bytes, out)) {
      reject(part);
      continue;
    }
    auto decoded = decode_cloud_config(*doc, out);
    if (!decoded) {
      reject(part);
      continue;
    }
    auto how = part_merge_spec(*doc, part, out);
    if (!how) {
      reject(part);
      continue;
    }
    drop_merge_keys(*doc);
    if (doc->get(kAmibootKey) != nullptr) {
      out.push_back(Diagnostic{Diagnostic::Severity::Warning, doc->get(kAmibootKey)->pos,
                               std::string(kAmibootKey),
                               "image settings are read from /etc/amiboot only; ignored here"});
      auto& entries = doc->entries;
      entries.erase(std::remove_if(entries.begin(), entries.end(),
                                   [](const Value::Entry& e) { return e.key == kAmibootKey; }),
                    entries.end());
    }
    if (!result.modules.add_part(*doc, std::move(*decoded), *how, out)) {
      reject(part);
      continue;
    }
    ++result.accepted_parts;
  }
  result.config = result.modules.merged();
  return result;
}

MergedConfig merge_cloud_config(const Value& base, const std::vector<Part>& parts, Diagnostics& out,
                                const Limits& limits) {
  ModuleConfigs modules;
  if (auto decoded = decode_cloud_config(base, out)) {
    modules.add(base, std::move(*decoded));
  }
  return merge_cloud_config(std::move(modules), parts, out, limits);
}

}  // namespace amiboot
