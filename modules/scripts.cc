#include "modules/scripts.h"

namespace amiboot {

namespace {

PlanResult run_folder(const Facts& input, const std::string& which) {
  PlanResult result;
  std::vector<std::string> dirs = {input.state_dir + "/scripts/" + which};
  if (input.system.path_exists(kCloudInitCompatMarker)) {
    dirs.push_back(std::string(kCloudInitScriptsDir) + "/" + which);
  }
  for (const std::string& dir : dirs) {
    for (const std::string& name : input.system.executables_in(dir)) {
      result.actions.push_back(RunCommand{{dir + "/" + name}, which + " " + name, true});
    }
  }
  return result;
}

}  // namespace

PlanResult write_and_run(const Facts& input, PartType type, const std::string& folder) {
  PlanResult result;
  std::string dir = input.state_dir + "/instances/" + input.metadata.instance_id + "/" + folder;
  for (const Part& part : input.parts) {
    if (part.type != type) {
      continue;
    }
    std::string path = dir + "/" + part.name;
    std::string content = part.content;
    // A boothook or a script without an interpreter line runs with sh, as
    // cloud-init's boothook handler does.
    if (content.rfind("#!", 0) != 0) {
      content = "#!/bin/sh\n" + content;
    }
    result.actions.push_back(WriteFile{path, content, 0700, "root", false, part.label});
    result.actions.push_back(RunCommand{{path}, folder + " " + part.name, true});
  }
  return result;
}

PlanResult plan_scripts_user(const NoKeys&, const Facts& input) {
  return write_and_run(input, PartType::ShellScript, "scripts");
}

PlanResult plan_scripts_per_boot(const NoKeys&, const Facts& input) {
  return run_folder(input, "per-boot");
}

PlanResult plan_scripts_per_instance(const NoKeys&, const Facts& input) {
  return run_folder(input, "per-instance");
}

PlanResult plan_scripts_per_once(const NoKeys&, const Facts& input) {
  return run_folder(input, "per-once");
}

}  // namespace amiboot
