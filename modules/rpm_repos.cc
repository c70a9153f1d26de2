// SPDX-License-Identifier: Apache-2.0
#include "modules/rpm_repos.h"

#include <algorithm>
#include <cctype>

#include "agent/core/strings.h"
#include "modules/image_program.h"
#include "modules/os_release.h"
#include "modules/package_managers.h"
#include "modules/packages.h"

namespace amiboot {

namespace {

bool valid_repo_id(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  });
}

bool valid_option_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

// zypp.conf names are dotted (download.use_deltarpm).
std::string dotted(std::string name) {
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

// cloud-init's _format_repo_value: booleans as 1 and 0, lists one value a
// line (`separator` starts each continuation line).
std::optional<std::string> option_value(Decoder& d, const Value& v, const std::string& path,
                                        const std::string& separator) {
  if (v.is_sequence()) {
    std::string joined;
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      auto item = option_value(d, v.items[i], path + "[" + std::to_string(i) + "]", separator);
      if (!item) {
        return std::nullopt;
      }
      joined += (i == 0 ? "" : separator) + *item;
    }
    return joined;
  }
  if (!v.is_scalar()) {
    d.error(v, path, "expected a value or a list of values, got " + v.type_name());
    return std::nullopt;
  }
  if (auto b = v.as_bool(); b && !v.looks_like_number()) {
    return std::string(*b ? "1" : "0");
  }
  if (v.scalar.find_first_of("\r\n") != std::string::npos) {
    d.error(v, path, "a line break would start a new option; give a list for several values");
    return std::nullopt;
  }
  return v.scalar;
}

bool has_location(const RpmRepo& repo) {
  return std::any_of(repo.options.begin(), repo.options.end(), [](const auto& o) {
    return o.first == "baseurl" || o.first == "mirrorlist" || o.first == "metalink";
  });
}

// One repository's options; `id_key` is zypper's `id` entry, absent for yum
// (whose id is the map key).
std::optional<RpmRepo> decode_repo(Decoder& d, const Value& map, const std::string& path,
                                   std::string id, char space, const std::string& separator) {
  RpmRepo repo;
  if (!map.is_null() && d.map(map, path) == nullptr) {
    return std::nullopt;
  }
  for (const auto& e : map.entries) {
    std::string name = lowercase(trim(e.key));
    std::replace(name.begin(), name.end(), '-', '_');
    if (name == "id" && space == '_') {
      continue;  // zypper's id, read by the caller
    }
    if (!valid_option_name(name)) {
      d.error(e.value, path + "." + e.key,
              "expected an option name (letters, digits, _ and -), got '" + e.key + "'");
      continue;
    }
    if (auto value = option_value(d, e.value, path + "." + e.key, separator)) {
      repo.options.emplace_back(name, *value);
    }
  }
  std::replace(id.begin(), id.end(), ' ', space);  // cloud-init's _canonicalize_id
  if (!valid_repo_id(id)) {
    d.error(map, path,
            "expected a repository id of letters, digits, '_', '.' and '-' (it is the .repo "
            "file's name), got '" +
                id + "'");
    return std::nullopt;
  }
  repo.id = id;
  if (!has_location(repo)) {
    d.error(map, path,
            "repository " + id +
                " has neither baseurl nor mirrorlist/metalink (cloud-init skips it with a "
                "warning; amiboot rejects it, so the packages expected from it are not "
                "silently missing)");
    return std::nullopt;
  }
  return repo;
}

std::optional<std::string> decode_dir(Decoder& d, const Value& v, const std::string& path) {
  auto dir = d.string(v, path);
  if (!dir) {
    return std::nullopt;
  }
  if (auto why = absolute_path_problem(*dir); !why.empty()) {
    d.error(v, path, why);
    return std::nullopt;
  }
  while (dir->size() > 1 && dir->ends_with("/")) {
    dir->pop_back();
  }
  return dir;
}

// The written files, then the index refreshed with the image's manager.
PlanResult plan_repos(const std::vector<RpmRepo>& repos, const std::string& dir,
                      std::string (*format)(const RpmRepo&), const Facts& facts, const char* module,
                      const std::string& manager) {
  PlanResult result;
  std::size_t written = 0;
  for (const auto& repo : repos) {
    std::string path = dir + "/" + repo.id + ".repo";
    std::string content = format(repo);
    auto existing = facts.system.read_text(path);
    if (existing == content) {
      continue;
    }
    if (existing) {
      // As cloud-init: a repository the image (or an earlier boot) has is
      // not rewritten.
      result.diagnostics.push_back({Diagnostic::Severity::Warning,
                                    {},
                                    module,
                                    path + " exists already: repository " + repo.id +
                                        " is left as it is, as cloud-init leaves it"});
      continue;
    }
    result.actions.push_back(
        WriteFile{.path = path, .content = content, .label = std::string(module) + ": " + path});
    ++written;
  }
  if (written > 0 && !manager.empty()) {
    ManagePackages update{.manager = manager,
                          .update = true,
                          .label = std::string(module) + ": refreshing the index"};
    Diagnostics settings;
    decode_package_settings(facts.image_config, update, settings);
    result.actions.push_back(update);
  }
  result.summary = std::to_string(written) + " repository file(s) written";
  return result;
}

std::string ini_section(const RpmRepo& repo, const char* equals) {
  std::string out = "[" + repo.id + "]\n";
  for (const auto& [name, value] : repo.options) {
    out += name + equals + value + "\n";
  }
  return out;
}

}  // namespace

std::string yum_repo_file(const RpmRepo& repo) {
  // ConfigParser's layout: "key = value", continuation lines indented.
  return "# Created by amiboot (cloud-init's yum_repos)\n" + ini_section(repo, " = ") + "\n";
}

std::string zypper_repo_file(const RpmRepo& repo) {
  return ini_section(repo, " = ");
}

std::optional<YumReposConfig> decode_yum_add_repo(const Value& doc, Diagnostics& out) {
  const Value* repos = doc.get("yum_repos");
  Decoder d(out);
  YumReposConfig cfg;
  if (const Value* dir = doc.get("yum_repo_dir"); dir != nullptr && !dir->is_null()) {
    cfg.repo_dir = decode_dir(d, *dir, "yum_repo_dir").value_or(cfg.repo_dir);
  }
  if (repos == nullptr || repos->is_null()) {
    return std::nullopt;
  }
  if (d.map(*repos, "yum_repos") == nullptr) {
    return std::nullopt;
  }
  for (const auto& e : repos->entries) {
    auto repo = decode_repo(d, e.value, "yum_repos." + e.key, e.key, '-', "\n\t");
    if (!repo) {
      continue;
    }
    if (std::any_of(cfg.repos.begin(), cfg.repos.end(),
                    [&](const RpmRepo& r) { return r.id == repo->id; })) {
      d.error(e.value, "yum_repos." + e.key, "repository id " + repo->id + " is given twice");
      continue;
    }
    cfg.repos.push_back(std::move(*repo));
  }
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

PlanResult plan_yum_add_repo(const YumReposConfig& config, const Facts& facts) {
  auto os = read_os_release(facts.system);
  std::string manager;
  if (os) {
    ManagerChoice choice = choose_package_manager(*os, facts.system);
    if (choice.manager != nullptr &&
        (choice.manager->name == "dnf" || choice.manager->name == "yum")) {
      manager = choice.manager->name;
    }
  }
  if (!os || !os->is_redhat_family()) {
    PlanResult result;
    result.diagnostics.push_back(
        {Diagnostic::Severity::Warning,
         {},
         "yum_repos",
         "not a dnf or yum system (cloud-init's yum_add_repo runs on the Red Hat family): "
         "yum_repos is ignored"});
    return result;
  }
  return plan_repos(config.repos, config.repo_dir, yum_repo_file, facts, "yum_repos", manager);
}

std::optional<ZypperConfig> decode_zypper_add_repo(const Value& doc, Diagnostics& out) {
  const Value* zypper = doc.get("zypper");
  if (zypper == nullptr || zypper->is_null()) {
    return std::nullopt;
  }
  Decoder d(out);
  if (d.map(*zypper, "zypper") == nullptr) {
    return std::nullopt;
  }
  d.unknown_keys(*zypper, "zypper", {"repos", "config"});
  ZypperConfig cfg;
  if (const Value* c = zypper->get("config"); c != nullptr && d.map(*c, "zypper.config")) {
    for (const auto& e : c->entries) {
      std::string path = "zypper.config." + e.key;
      if (e.key == "reposdir") {
        cfg.repo_dir = decode_dir(d, e.value, path).value_or(cfg.repo_dir);
      }
      if (e.key == "configdir") {
        d.warning(e.value, path,
                  "changing where zypper reads its configuration is not supported, as in "
                  "cloud-init; skipped");
        continue;
      }
      if (!valid_option_name(dotted(e.key))) {
        d.error(e.value, path, "expected a zypp.conf setting name (letters, digits, _ and .)");
        continue;
      }
      if (auto v = option_value(d, e.value, path, ",")) {
        if (!v->empty()) {
          cfg.config.emplace_back(e.key, *v);
        }
      }
    }
  }
  if (const Value* repos = zypper->get("repos");
      repos != nullptr && d.list(*repos, "zypper.repos") != nullptr) {
    for (std::size_t i = 0; i < repos->items.size(); ++i) {
      const Value& item = repos->items[i];
      std::string path = "zypper.repos[" + std::to_string(i) + "]";
      const Value* id = item.is_map() ? item.get("id") : nullptr;
      if (id == nullptr) {
        d.error(item, path, "expected id (and baseurl)");
        continue;
      }
      auto repo_id = d.string(*id, path + ".id");
      if (!repo_id) {
        continue;
      }
      auto repo = decode_repo(d, item, path, *repo_id, '_', "\n    ");
      if (!repo) {
        continue;
      }
      // cloud-init's defaults for a new zypper repository.
      for (const char* field : {"enabled", "autorefresh"}) {
        if (std::none_of(repo->options.begin(), repo->options.end(),
                         [&](const auto& o) { return o.first == field; })) {
          repo->options.emplace_back(field, "1");
        }
      }
      cfg.repos.push_back(std::move(*repo));
    }
  }
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

PlanResult plan_zypper_add_repo(const ZypperConfig& config, const Facts& facts) {
  auto os = read_os_release(facts.system);
  if (!os || !os->is_suse_family()) {
    PlanResult result;
    result.diagnostics.push_back(
        {Diagnostic::Severity::Warning,
         {},
         "zypper",
         "not a zypper system (cloud-init's zypper_add_repo runs on openSUSE and SLES): zypper "
         "is ignored"});
    return result;
  }
  PlanResult result =
      plan_repos(config.repos, config.repo_dir, zypper_repo_file, facts, "zypper", "zypper");
  if (!config.config.empty()) {
    // cloud-init appends on every boot; here once: the settings already at
    // the end of zypp.conf are not added again.
    const std::string conf = "/etc/zypp/zypp.conf";
    std::string block = "# Added via cloud.cfg\n";
    for (const auto& [k, v] : config.config) {
      block += k + "=" + v + "\n";
    }
    auto existing = facts.system.read_text(conf).value_or("");
    if (existing.find(block) == std::string::npos) {
      std::string content =
          existing + (existing.empty() || existing.ends_with("\n") ? "" : "\n") + block;
      result.actions.insert(
          result.actions.begin(),
          WriteFile{.path = conf, .content = content, .label = "zypper: " + conf});
    }
  }
  return result;
}

}  // namespace amiboot
