// SPDX-License-Identifier: Apache-2.0
#include "agent/state.h"
#include "agent/core/json_text.h"
#include "agent/login_order.h"
#include "modules/firewall.h"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace amiboot {

namespace {

constexpr mode_t kPrivateFile = 0600;

nlohmann::json part_to_json(const Part& p) {
  return {{"type", part_type_name(p.type)},
          {"name", p.name},
          {"label", p.label},
          {"content", p.content},
          {"merge_type", p.merge_type}};
}

PartType part_type_from(const std::string& name) {
  for (PartType t :
       {PartType::CloudConfig, PartType::ShellScript, PartType::Boothook, PartType::IncludeUrl,
        PartType::ScriptPerBoot, PartType::ScriptPerInstance, PartType::ScriptPerOnce}) {
    if (part_type_name(t) == name) {
      return t;
    }
  }
  return PartType::Unknown;
}

}  // namespace

Status State::write_if_changed(const std::string& path, const std::string& content) {
  return m_system.write_file_if_changed(path, content, FileAttrs{kPrivateFile, 0, 0});
}

std::optional<std::string> State::current_instance() const {
  auto target = m_system.read_symlink(std::string(kStateDir) + "/instance");
  if (!target) {
    return std::nullopt;
  }
  std::string t = *target;
  return t.substr(t.rfind('/') + 1);
}

std::string State::instance_dir(const std::string& instance_id) const {
  return std::string(kStateDir) + "/instances/" + instance_id;
}

Status State::ensure_private_dirs(const std::string& instance_id) {
  for (const std::string& dir : {std::string(kStateDir), std::string(kStateDir) + "/instances",
                                 instance_dir(instance_id), instance_dir(instance_id) + "/sem"}) {
    if (auto st = m_system.make_dirs(dir, 0700); !st) {
      return st;
    }
  }
  return {};
}

Status State::save_instance(const SourceData& data, const std::vector<Part>& parts,
                            const std::optional<std::string>& final_configs) {
  const std::string& id = data.metadata.instance_id;
  if (auto st = ensure_private_dirs(id); !st) {
    return st;
  }
  std::string dir = instance_dir(id);
  // Unchanged on a reboot of the same instance: not written again, so the
  // login path pays no fsync for them. What changed is fsynced file by
  // file, and the folder once for all of them (one journal commit, not four).
  bool changed = false;
  FileAttrs attrs{kPrivateFile, 0, 0};
  attrs.sync_folder = false;
  auto arr = nlohmann::json::array();
  for (const auto& p : parts) {
    arr.push_back(part_to_json(p));
  }
  // Parts may be binary-ish: json_text replaces invalid UTF-8 rather than
  // throwing.
  const std::pair<const char*, std::optional<std::string>> records[] = {
      {"metadata.json", json_text(to_json(data.metadata), 2) + "\n"},
      {"user-data", data.user_data},
      {"parts.json", json_text(arr, 2) + "\n"},
      {"final-config.json", final_configs ? std::optional(*final_configs + "\n") : std::nullopt}};
  for (const auto& [name, content] : records) {
    std::string path = dir + "/" + name;
    Status st;
    if (content) {
      st = m_system.write_file_if_changed(path, *content, attrs, &changed);
    } else if (m_system.exists(path)) {
      changed = true;
      st = m_system.remove_all(path);
    }
    if (!st) {
      return st;
    }
  }
  if (changed) {
    if (auto st = m_system.sync_folder(dir); !st) {
      return st;
    }
  }
  if (current_instance() == id) {
    return {};
  }
  // The link says which instance the next boot compares with: durable too.
  if (auto st = m_system.symlink("instances/" + id, std::string(kStateDir) + "/instance"); !st) {
    return st;
  }
  return m_system.sync_folder(kStateDir);
}

Result<std::pair<SourceData, std::vector<Part>>> State::load_current() const {
  auto id = current_instance();
  if (!id) {
    return error("no instance recorded in " + std::string(kStateDir) +
                 "; the init stage has not run");
  }
  std::string dir = instance_dir(*id);
  auto md_text = m_system.read_file(dir + "/metadata.json");
  auto parts_text = m_system.read_file(dir + "/parts.json");
  if (!md_text || !parts_text) {
    return error("instance state in " + dir + " is incomplete");
  }
  try {
    auto md = metadata_from_json(nlohmann::json::parse(*md_text));
    if (!md) {
      return md.error();
    }
    SourceData data{*md, std::nullopt};
    if (auto ud = m_system.read_file(dir + "/user-data")) {
      data.user_data = *ud;
    }
    std::vector<Part> parts;
    for (const auto& j : nlohmann::json::parse(*parts_text)) {
      Part part{part_type_from(j.at("type")), j.at("name"), j.at("label"), j.at("content")};
      // Absent in what an older amiboot stored: the default merger.
      part.merge_type = j.value("merge_type", "");
      parts.push_back(std::move(part));
    }
    return std::pair{std::move(data), std::move(parts)};
  } catch (const nlohmann::json::exception& e) {
    return error("instance state in " + dir + " is corrupt: " + e.what());
  }
}

std::optional<std::string> State::load_final_configs() const {
  auto id = current_instance();
  if (!id) {
    return std::nullopt;
  }
  auto text = m_system.read_file(instance_dir(*id) + "/final-config.json");
  return text ? std::optional(*text) : std::nullopt;
}

namespace {

nlohmann::json read_include_index(const System& system, const std::string& dir) {
  auto text = system.read_file(dir + "/index.json");
  if (!text) {
    return nlohmann::json::object();
  }
  auto index = nlohmann::json::parse(*text, nullptr, false);
  return index.is_object() ? index : nlohmann::json::object();
}

}  // namespace

std::optional<std::string> State::load_include_once(const std::string& instance_id,
                                                    const std::string& url) const {
  std::string dir = instance_dir(instance_id) + "/include-once";
  nlohmann::json index = read_include_index(m_system, dir);
  auto it = index.find(url);
  if (it == index.end() || !it->is_number_unsigned()) {
    return std::nullopt;
  }
  auto content = m_system.read_file(dir + "/" + std::to_string(it->get<unsigned>()));
  return content ? std::optional(*content) : std::nullopt;
}

Status State::save_include_once(const std::string& instance_id, const std::string& url,
                                const std::string& content) {
  if (auto st = ensure_private_dirs(instance_id); !st) {
    return st;
  }
  std::string dir = instance_dir(instance_id) + "/include-once";
  if (auto st = m_system.make_dirs(dir, 0700); !st) {
    return st;
  }
  nlohmann::json index = read_include_index(m_system, dir);
  unsigned n = 0;
  if (auto it = index.find(url); it != index.end() && it->is_number_unsigned()) {
    n = it->get<unsigned>();
  } else {
    for (const auto& [key, value] : index.items()) {
      if (value.is_number_unsigned()) {
        n = std::max(n, value.get<unsigned>() + 1);
      }
    }
  }
  // The content first: an index entry never names a file not yet written.
  if (auto st = m_system.write_file(dir + "/" + std::to_string(n), content,
                                    FileAttrs{kPrivateFile, 0, 0});
      !st) {
    return st;
  }
  index[url] = n;
  return m_system.write_file(dir + "/index.json", json_text(index, 2) + "\n",
                             FileAttrs{kPrivateFile, 0, 0});
}

std::string State::semaphore(const ModuleSpec& module, const std::string& instance_id) const {
  std::string name(module.name);
  switch (module.frequency) {
    case Frequency::Once:
      return std::string(kStateDir) + "/once/" + name;
    case Frequency::PerInstance:
      return instance_dir(instance_id) + "/sem/" + name;
    case Frequency::PerBoot:
      break;
  }
  return std::string(kRunDir) + "/sem/" + name;
}

bool State::done(const ModuleSpec& module, const std::string& instance_id) const {
  return m_system.exists(semaphore(module, instance_id));
}

Status State::mark_done(const ModuleSpec& module, const std::string& instance_id,
                        const std::string& result) {
  std::string path = semaphore(module, instance_id);
  std::string dir = path.substr(0, path.rfind('/'));
  if (auto st = m_system.make_dirs(dir, 0700); !st) {
    return st;
  }
  nlohmann::json j = {{"module", module.name},
                      {"result", result},
                      {"time", std::chrono::system_clock::to_time_t(m_system.now())}};
  // Per-boot semaphores live on tmpfs; the others must survive a crash.
  if (auto st = m_system.write_file(
          path, json_text(j) + "\n",
          FileAttrs{kPrivateFile, 0, 0, module.frequency != Frequency::PerBoot});
      !st) {
    return st;
  }
  return m_system.remove_all(path + ".progress");
}

nlohmann::json State::load_progress(const ModuleSpec& module,
                                    const std::string& instance_id) const {
  auto text = m_system.read_file(semaphore(module, instance_id) + ".progress");
  if (!text) {
    return nullptr;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_object() ? j : nlohmann::json(nullptr);
}

Status State::save_progress(const ModuleSpec& module, const std::string& instance_id,
                            const nlohmann::json& progress, bool first) {
  std::string path = semaphore(module, instance_id);
  if (auto st = first ? m_system.make_dirs(path.substr(0, path.rfind('/')), 0700) : Status{}; !st) {
    return st;
  }
  // Not fsynced: it is there for a killed process (kill -9, the OOM killer),
  // whose writes the kernel keeps, and a write per action must stay cheap.
  return m_system.write_file(path + ".progress", json_text(progress) + "\n",
                             FileAttrs{kPrivateFile, 0, 0, false});
}

nlohmann::json State::load_fetched(const std::string& instance_id) const {
  auto text = m_system.read_file(instance_dir(instance_id) + "/fetched.json");
  if (!text) {
    return nlohmann::json::object();
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

Status State::save_fetched(const std::string& instance_id, const nlohmann::json& fetched) {
  if (auto st = ensure_private_dirs(instance_id); !st) {
    return st;
  }
  return write_if_changed(instance_dir(instance_id) + "/fetched.json", json_text(fetched) + "\n");
}

Status State::record_boot(const std::string& name, const nlohmann::json& record) {
  std::string dir = std::string(kStateDir) + "/boots";
  if (auto st = m_system.make_dirs(dir, 0700); !st) {
    return st;
  }
  // Not fsynced: only `analyze` reads the history, and a record lost to a
  // power cut loses no state that keeps an action from running twice. Its
  // two fsyncs a stage (file and folder) were nearly all of a reboot's. The
  // rename still leaves it whole or absent.
  return m_system.write_file(dir + "/" + name + ".json", json_text(record, 2) + "\n",
                             FileAttrs{kPrivateFile, 0, 0, false});
}

std::vector<nlohmann::json> State::boots() const {
  std::vector<nlohmann::json> out;
  std::string dir = std::string(kStateDir) + "/boots";
  auto names = m_system.list_dir(dir);
  if (!names) {
    return out;
  }
  for (const auto& name : *names) {
    if (auto text = m_system.read_file(dir + "/" + name)) {
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (!j.is_discarded()) {
        out.push_back(std::move(j));
      }
    }
  }
  return out;
}

Status State::clean(bool logs) {
  // The kept firewall ruleset and the login record belong to this
  // instance too: an image must not boot the next instance with them.
  std::vector<std::string> paths = {std::string(kStateDir) + "/instances",
                                    std::string(kStateDir) + "/instance",
                                    std::string(kStateDir) + "/once",
                                    nft_kept_path(kStateDir),
                                    std::string(kStateDir) + "/" + kFastLoginRecordName,
                                    std::string(kRunDir)};
  if (logs) {
    paths.push_back(std::string(kStateDir) + "/boots");
  }
  for (const auto& p : paths) {
    if (auto st = m_system.remove_all(p); !st) {
      return st;
    }
  }
  return {};
}

}  // namespace amiboot
