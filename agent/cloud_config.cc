#include "agent/cloud_config.h"

#include <algorithm>

#include "modules/module.h"

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
    if (owned_by_a_module(e.key) || e.key == kAmibootKey) {
      continue;
    }
    std::string message = is_cloud_init_key_we_lack(e.key)
                              ? "amiboot has no module for this cloud-init key; ignored"
                              : "unknown key; ignored";
    out.push_back(Diagnostic{Diagnostic::Severity::Warning, e.key_pos, e.key, message});
  }
}

}  // namespace

bool check_cloud_config(const Value& doc, Diagnostics& out) {
  if (doc.is_null()) {
    return true;
  }
  if (!doc.is_map()) {
    out.push_back(Diagnostic{Diagnostic::Severity::Error, doc.pos, "",
                             "expected a map of cloud-config keys, got " + doc.type_name()});
    return false;
  }
  Diagnostics found;
  for (const auto& m : module_table()) {
    m.check(doc, found);
  }
  warn_unowned_keys(doc, found);
  bool ok = !has_errors(found);
  out.insert(out.end(), found.begin(), found.end());
  return ok;
}

Value load_image_config(const System& system, Diagnostics& out) {
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
  Value merged;
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
    if (!check_cloud_config(*doc, out)) {
      out.push_back(Diagnostic{Diagnostic::Severity::Error,
                               {file},
                               "",
                               "this image config file has errors; it is ignored"});
      continue;
    }
    merged = merge(merged, *doc);
  }
  return merged;
}

MergedConfig merge_cloud_config(const Value& base, const std::vector<Part>& parts,
                                Diagnostics& out) {
  MergedConfig result{base};
  for (const Part& part : parts) {
    if (part.type != PartType::CloudConfig) {
      continue;
    }
    auto doc = parse_yaml(part.content, part.label);
    if (!doc) {
      out.push_back(Diagnostic{Diagnostic::Severity::Error, {}, "", doc.error().message});
      out.push_back(Diagnostic{Diagnostic::Severity::Error,
                               {part.label},
                               "",
                               "cloud-config rejected whole; nothing from it is applied"});
      ++result.rejected_parts;
      continue;
    }
    if (!check_cloud_config(*doc, out)) {
      out.push_back(Diagnostic{Diagnostic::Severity::Error,
                               {part.label},
                               "",
                               "cloud-config rejected whole; nothing from it is applied"});
      ++result.rejected_parts;
      continue;
    }
    if (doc->get(kAmibootKey) != nullptr) {
      out.push_back(Diagnostic{Diagnostic::Severity::Warning, doc->get(kAmibootKey)->pos,
                               std::string(kAmibootKey),
                               "image settings are read from /etc/amiboot only; ignored here"});
      auto& entries = doc->entries;
      entries.erase(std::remove_if(entries.begin(), entries.end(),
                                   [](const Value::Entry& e) { return e.key == kAmibootKey; }),
                    entries.end());
    }
    result.config = merge(result.config, *doc);
    ++result.accepted_parts;
  }
  return result;
}

}  // namespace amiboot
