// SPDX-License-Identifier: Apache-2.0
#include "modules/scripts.h"

#include <map>
#include <set>

namespace amiboot {

namespace {

// A part without an interpreter line runs with sh, as cloud-init's boothook
// handler does.
std::string with_interpreter(const std::string& content) {
  return content.rfind("#!", 0) == 0 ? content : "#!/bin/sh\n" + content;
}

// The folder's scripts in name order. User-data parts of `part_type`
// (text/x-shellscript-per-<x>) are written into amiboot's folder first, as
// cloud-init writes them into /var/lib/cloud/scripts/per-<x>/, and run with
// the folder's other scripts; they stay there for later boots and image
// copies, as in cloud-init.
PlanResult run_folder(const Facts& input, const std::string& which, PartType part_type) {
  PlanResult result;
  std::string own = input.state_dir + "/scripts/" + which;
  std::map<std::string, const Part*> parts;
  for (const Part& part : input.parts) {
    if (part.type == part_type) {
      parts[part.name] = &part;  // the last part of a name wins, as its file would
    }
  }
  for (const auto& [name, part] : parts) {
    result.actions.push_back(
        script_file(own + "/" + name, with_interpreter(part->content), part->label));
  }
  std::vector<std::string> dirs = {own};
  if (input.system.path_exists(kCloudInitCompatMarker)) {
    dirs.push_back(std::string(kCloudInitScriptsDir) + "/" + which);
  }
  for (const std::string& dir : dirs) {
    std::set<std::string> names;
    for (const std::string& name : input.system.executables_in(dir)) {
      names.insert(name);
    }
    if (dir == own) {
      for (const auto& [name, part] : parts) {
        names.insert(name);
      }
    }
    for (const std::string& name : names) {
      result.actions.push_back(RunCommand{{dir + "/" + name}, which + " " + name, true});
    }
  }
  return result;
}

}  // namespace

PlanResult write_and_run(const Facts& input, PartType type, const std::string& folder) {
  PlanResult result;
  std::string dir = input.instance_dir() + "/" + folder;
  for (const Part& part : input.parts) {
    if (part.type != type) {
      continue;
    }
    std::string path = dir + "/" + part.name;
    result.actions.push_back(script_file(path, with_interpreter(part.content), part.label));
    result.actions.push_back(RunCommand{{path}, folder + " " + part.name, true});
  }
  return result;
}

void to_json(nlohmann::json& json, const UserScriptsConfig& config) {
  json = config.runcmd ? nlohmann::json(*config.runcmd) : nlohmann::json(nullptr);
}

void from_json(const nlohmann::json& json, UserScriptsConfig& config) {
  config.runcmd.reset();
  if (!json.is_null()) {
    config.runcmd = json.get<CommandList>();
  }
}

UserScriptsConfig decode_user_scripts(const Value& doc, Diagnostics& out) {
  return {decode_command_list(doc, kRuncmd, out)};
}

// cloud-init writes every user-data script, and runcmd as the script
// `runcmd`, into the instance's scripts folder, then runs the folder once in
// name order; so does this.
PlanResult plan_scripts_user(const UserScriptsConfig& config, const Facts& input) {
  PlanResult result;
  std::string dir = input.instance_dir() + "/scripts";
  std::map<std::string, const Part*> parts;
  for (const Part& part : input.parts) {
    if (part.type == PartType::ShellScript) {
      parts[part.name] = &part;  // the last part of a name wins, as its file would
    }
  }
  std::vector<Action> runcmd;
  if (config.runcmd && !config.runcmd->lines.empty()) {
    if (auto same = parts.find(kRuncmd); same != parts.end()) {
      // cloud-init's runcmd module writes scripts/runcmd after the parts.
      result.diagnostics.push_back(
          {Diagnostic::Severity::Warning,
           {},
           kRuncmd,
           same->second->label + " is named runcmd: runcmd takes its place, as in cloud-init"});
      parts.erase(same);
    }
    runcmd = write_and_run_commands(*config.runcmd, dir, false);
    result.actions.push_back(std::move(runcmd.front()));
  }
  for (const auto& [name, part] : parts) {
    result.actions.push_back(
        script_file(dir + "/" + name, with_interpreter(part->content), part->label));
  }
  bool runcmd_done = runcmd.empty();
  for (const auto& [name, part] : parts) {
    if (!runcmd_done && name > kRuncmd) {
      result.actions.push_back(std::move(runcmd.back()));
      runcmd_done = true;
    }
    result.actions.push_back(RunCommand{{dir + "/" + name}, "scripts " + name, true});
  }
  if (!runcmd_done) {
    result.actions.push_back(std::move(runcmd.back()));
  }
  return result;
}

PlanResult plan_scripts_per_boot(const NoKeys&, const Facts& input) {
  return run_folder(input, "per-boot", PartType::ScriptPerBoot);
}

PlanResult plan_scripts_per_instance(const NoKeys&, const Facts& input) {
  return run_folder(input, "per-instance", PartType::ScriptPerInstance);
}

PlanResult plan_scripts_per_once(const NoKeys&, const Facts& input) {
  return run_folder(input, "per-once", PartType::ScriptPerOnce);
}

}  // namespace amiboot
