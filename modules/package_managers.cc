// SPDX-License-Identifier: Apache-2.0
#include "modules/package_managers.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

// Output texts are the managers' own (C locale, which System::run sets
// through LANG=C.UTF-8): apt 2.6, dnf 4, yum 3, zypper 1.14.
std::vector<PackageManager> make_table() {
  std::vector<PackageManager> table;
  table.push_back(PackageManager{
      .name = "apt",
      .program = "apt-get",
      .families = {"debian", "ubuntu"},
      // needrestart (Ubuntu) would otherwise restart services, ours included,
      // in the middle of the boot; it only lists them with "l".
      .env = {{"DEBIAN_FRONTEND", "noninteractive"},
              {"APT_LISTCHANGES_FRONTEND", "none"},
              {"NEEDRESTART_MODE", "l"}},
      // confdef+confold: a config file the image changed is kept, never a
      // prompt that would hang the boot.
      .options = {"--assume-yes", "--quiet", "-o", "DPkg::Lock::Timeout={lock_timeout}", "-o",
                  "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"},
      .update = {"update"},
      .upgrade = {"dist-upgrade"},  // what cloud-init runs for package_upgrade
      .install = {"install"},
      .version_separator = "=",
      .update_failed_patterns = {"W: Failed to fetch", "W: Some index files failed to download"},
      .missing_patterns = {"E: Unable to locate package {name}",
                           "E: Version '{any}' for '{name}' was not found",
                           "E: Package '{name}' has no installation candidate",
                           "E: Couldn't find any package by glob '{name}'",
                           "E: Couldn't find any package by regex '{name}'"},
      .missing_exit_codes = {},
      .stale_patterns = {"404  Not Found", "404 Not Found"},
      .transient_patterns = {"Could not get lock", "Unable to acquire the dpkg frontend lock",
                             "Unable to lock directory", "Temporary failure resolving",
                             "Could not resolve", "Could not connect", "Connection timed out",
                             "Connection failed", "Unable to connect", "Hash Sum mismatch",
                             "Failed to fetch"},
      .transient_exit_codes = {},
      .broken_list_header = "Errors were encountered while processing:",
      .reboot_file = "/var/run/reboot-required",
  });
  const std::vector<std::string> redhat = {"fedora", "rhel", "centos", "amzn"};
  const std::vector<std::string> rpm_transient = {"Curl error",
                                                  "Cannot download",
                                                  "Failed to download metadata",
                                                  "Timeout was reached",
                                                  "Could not resolve host",
                                                  "Cannot retrieve repository metadata",
                                                  "Could not retrieve mirrorlist",
                                                  "Another app is currently holding the yum lock",
                                                  " already locked by ",
                                                  "can't create transaction lock on "};
  // dnf and yum would wait for their lock without a limit; with exit_on_lock
  // they give up at once and amiboot waits (lock_held_patterns).
  table.push_back(PackageManager{
      .name = "dnf",
      .program = "dnf",
      .families = redhat,
      .root_options = {"--installroot={root}"},
      .options = {"--assumeyes", "--setopt=exit_on_lock=True"},
      .update = {"makecache", "--refresh"},  // plain makecache keeps unexpired metadata
      .upgrade = {"upgrade"},
      .install = {"install"},
      .version_separator = "-",
      .missing_patterns = {"No match for argument: {name}"},
      .stale_patterns = {"Status code: 404"},
      .transient_patterns = rpm_transient,
      // dnf 4.14's ProcessLockError (exit 200) for each of its locks, e.g.
      // "RPMDB already locked by 4242" while another dnf's transaction runs.
      // rpm's transaction lock held by another program (a plain rpm): dnf
      // 4.14 exits 1 at once, exit_on_lock or not.
      .lock_held_patterns = {"RPMDB already locked by ", "metadata already locked by ",
                             "cachedir already locked by ", "log already locked by ",
                             "can't create transaction lock on "},
      // dnf 4.14's line (it exits 0): the package is installed, its %post failed.
      .broken_patterns = {"Error in POSTIN scriptlet in rpm package {name}"},
      .reboot_check = {"dnf", "needs-restarting", "-r"},
      .reboot_exit_code = 1,
      .reboot_pattern = "Reboot is required",
  });
  table.push_back(PackageManager{
      .name = "yum",
      .program = "yum",
      .families = redhat,
      .root_options = {"--installroot={root}"},
      // yum on Amazon Linux 2 skips names it cannot find and exits 0.
      .options = {"--assumeyes", "--setopt=skip_missing_names_on_install=False",
                  "--setopt=exit_on_lock=True"},
      // Marks the metadata expired; the next command fetches it (makecache
      // would keep metadata that has not expired yet).
      .update = {"clean", "expire-cache"},
      .upgrade = {"upgrade"},
      .install = {"install"},
      .version_separator = "-",
      .missing_patterns = {"No package {name} available."},
      .stale_patterns = {"HTTP Error 404"},
      .transient_patterns = rpm_transient,
      // yum 3 (Amazon Linux 2) with exit_on_lock, exit 1.
      .lock_held_patterns = {"Another app is currently holding the yum lock; exiting as "
                             "configured by exit_on_lock"},
      // rpm's own line, which yum passes on.
      .broken_patterns = {"%post({name}) scriptlet failed"},
      .reboot_check = {"needs-restarting", "-r"},
      .reboot_exit_code = 1,
      .reboot_pattern = "Reboot is required",
  });
  table.push_back(PackageManager{
      .name = "zypper",
      .program = "zypper",
      .families = {"suse", "opensuse", "sles"},
      .root_options = {"--root", "{root}"},
      .env = {{"ZYPP_LOCK_TIMEOUT", "{lock_timeout}"}},
      .options = {"--non-interactive"},
      .update = {"refresh"},
      .upgrade = {"update", "--auto-agree-with-licenses"},
      .install = {"install", "--auto-agree-with-licenses"},
      .version_separator = "=",
      // ZYPPER_EXIT_INF_UPDATE_NEEDED, _SEC_UPDATE_NEEDED, _REBOOT_NEEDED
      .success_exit_codes = {100, 101, 102},
      .missing_patterns = {"Package '{name}' not found", "No provider of '{name}' found"},
      .missing_exit_codes = {104},  // ZYPPER_EXIT_INF_CAP_NOT_FOUND
      .stale_patterns = {"File not found on medium"},
      .transient_patterns = {"System management is locked", "Download (curl) error",
                             "Timeout exceeded", "Could not resolve host"},
      // ZYPPER_EXIT_ZYPP_LOCKED; _INF_RESTART_NEEDED (zypper updated itself:
      // run it again); _INF_REPOS_SKIPPED (a repository failed to refresh).
      .transient_exit_codes = {7, 103, 106},
      // rpm's line; zypper 1.14 then exits 107 (ZYPPER_EXIT_INF_RPM_SCRIPT_FAILED).
      .broken_patterns = {"%post({name}) scriptlet failed"},
      .reboot_check = {"zypper", "needs-rebooting"},
      .reboot_exit_code = 102,  // ZYPPER_EXIT_INF_REBOOT_NEEDED
  });
  return table;
}

std::string replace_lock(std::string text, int lock_timeout_seconds) {
  const std::string key = "{lock_timeout}";
  if (auto at = text.find(key); at != std::string::npos) {
    text.replace(at, key.size(), std::to_string(lock_timeout_seconds));
  }
  return text;
}

bool contains(const std::vector<int>& codes, int code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

bool any_in(const std::vector<std::string>& needles, std::string_view text) {
  return std::any_of(needles.begin(), needles.end(), [&](const std::string& needle) {
    return text.find(needle) != std::string_view::npos;
  });
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t end = std::min(text.find('\n'), text.size());
    lines.push_back(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return lines;
}

// The line worth quoting in our error: the manager's last error line, else
// its last line.
std::string reason_line(std::string_view output) {
  std::string_view last, last_error;
  for (std::string_view line : split_lines(output)) {
    if (trim(line, " \t\r").empty()) {
      continue;
    }
    last = line;
    if (line.substr(0, 3) == "E: " || line.substr(0, 5) == "Error" ||
        line.find("error") != std::string_view::npos) {
      last_error = line;
    }
  }
  std::string out(last_error.empty() ? last : last_error);
  constexpr std::size_t kMax = 300;
  return out.size() > kMax ? out.substr(0, kMax) + "..." : out;
}

}  // namespace

const std::vector<PackageManager>& package_managers() {
  static const std::vector<PackageManager> table = make_table();
  return table;
}

const PackageManager* find_package_manager(std::string_view name) {
  for (const auto& m : package_managers()) {
    if (m.name == name) {
      return &m;
    }
  }
  return nullptr;
}

ManagerChoice choose_package_manager(const OsRelease& os, const SystemView& system) {
  std::vector<std::string> matched;
  for (const auto& m : package_managers()) {
    bool serves = std::any_of(m.families.begin(), m.families.end(),
                              [&](const std::string& family) { return os.is(family); });
    if (!serves) {
      continue;
    }
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"}) {
      if (system.path_exists(dir + m.program)) {
        return {&m, ""};
      }
    }
    matched.push_back(m.program);
  }
  std::string like;
  for (const auto& l : os.id_like) {
    like += (like.empty() ? "" : " ") + l;
  }
  std::string seen = "ID=" + os.id + (like.empty() ? "" : ", ID_LIKE=\"" + like + "\"");
  if (!matched.empty()) {
    std::string names;
    for (const auto& p : matched) {
      names += (names.empty() ? "" : " or ") + p;
    }
    return {nullptr, "/etc/os-release says " + seen + ", but the image has no " + names};
  }
  return {nullptr, "no supported package manager for " + seen +
                       " (apt-get for debian and ubuntu; dnf or yum for fedora, rhel, centos "
                       "and amzn; zypper for suse)"};
}

std::string package_argument(const PackageManager& manager, const PackageSpec& spec) {
  return spec.version.empty() ? spec.name : spec.name + manager.version_separator + spec.version;
}

std::vector<std::string> package_argv(const PackageManager& manager, PackageStep step,
                                      const std::vector<PackageSpec>& packages,
                                      int lock_timeout_seconds) {
  std::vector<std::string> argv = {manager.program};
  for (const auto& option : manager.options) {
    argv.push_back(replace_lock(option, lock_timeout_seconds));
  }
  const auto& sub = step == PackageStep::Update    ? manager.update
                    : step == PackageStep::Upgrade ? manager.upgrade
                                                   : manager.install;
  argv.insert(argv.end(), sub.begin(), sub.end());
  if (step == PackageStep::Install) {
    for (const auto& spec : packages) {
      argv.push_back(package_argument(manager, spec));
    }
  }
  return argv;
}

std::vector<std::pair<std::string, std::string>> package_env(const PackageManager& manager,
                                                             int lock_timeout_seconds) {
  auto env = manager.env;
  for (auto& entry : env) {
    entry.second = replace_lock(entry.second, lock_timeout_seconds);
  }
  return env;
}

namespace {

// Templates: literal text with "{name}" (captured) and "{any}" placeholders.
// A placeholder runs to the next literal text, or to the first blank when it
// ends the template.
std::optional<std::string> match_at(std::string_view rest, std::string_view tmpl) {
  std::optional<std::string> name;
  while (!tmpl.empty()) {
    if (tmpl.front() != '{') {
      std::string_view literal = tmpl.substr(0, tmpl.find('{'));
      if (rest.substr(0, literal.size()) != literal) {
        return std::nullopt;
      }
      rest.remove_prefix(literal.size());
      tmpl.remove_prefix(literal.size());
      continue;
    }
    std::size_t close = tmpl.find('}');
    bool capture = tmpl.substr(0, close + 1) == "{name}";
    tmpl.remove_prefix(close + 1);
    std::string_view literal = tmpl.substr(0, tmpl.find('{'));
    std::size_t end =
        literal.empty() ? std::min(rest.find_first_of(" \t\r"), rest.size()) : rest.find(literal);
    if (end == std::string_view::npos || end == 0) {
      return std::nullopt;
    }
    if (capture) {
      name = std::string(rest.substr(0, end));
    }
    rest.remove_prefix(end);
  }
  return name;
}

std::optional<std::string> match_template(std::string_view line, std::string_view tmpl) {
  std::string_view head = tmpl.substr(0, tmpl.find('{'));
  for (std::size_t at = line.find(head); at != std::string_view::npos;
       at = line.find(head, at + 1)) {
    if (auto name = match_at(line.substr(at), tmpl)) {
      return name;
    }
  }
  return std::nullopt;
}

std::vector<NamedPackage> find_missing(const PackageManager& manager, std::string_view output) {
  std::vector<NamedPackage> found;
  for (std::string_view line : split_lines(output)) {
    for (const auto& tmpl : manager.missing_patterns) {
      auto name = match_template(line, tmpl);
      if (!name) {
        continue;
      }
      bool seen = std::any_of(found.begin(), found.end(),
                              [&](const NamedPackage& p) { return p.name == *name; });
      if (!seen) {
        found.push_back({*name, std::string(line)});
      }
      break;
    }
  }
  return found;
}

// dpkg: "Errors were encountered while processing:\n broken\n other\n".
std::vector<std::string> find_broken(const PackageManager& manager, std::string_view output) {
  std::vector<std::string> names;
  for (std::string_view line : split_lines(output)) {
    for (const auto& tmpl : manager.broken_patterns) {
      if (auto name = match_template(line, tmpl);
          name && std::find(names.begin(), names.end(), *name) == names.end()) {
        names.push_back(*name);
      }
    }
  }
  if (manager.broken_list_header.empty() || !names.empty()) {
    return names;
  }
  bool listing = false;
  for (std::string_view line : split_lines(output)) {
    if (line.rfind(manager.broken_list_header, 0) == 0) {
      listing = true;
      names.clear();  // the last list is the one that counts
    } else if (listing && !line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      names.emplace_back(trim(line, " \t\r"));
    } else {
      listing = false;
    }
  }
  return names;
}

// The first line that holds one of `needles`, trimmed; "" when none does.
std::string find_line(const std::vector<std::string>& needles, std::string_view output) {
  for (std::string_view line : split_lines(output)) {
    if (any_in(needles, line)) {
      return std::string(trim(line, " \t\r"));
    }
  }
  return "";
}

// The line that names the failed script: dnf exits 0 and ends with
// "Complete!", which would say nothing.
std::string broken_line(const PackageManager& manager, std::string_view output) {
  for (std::string_view line : split_lines(output)) {
    for (const auto& tmpl : manager.broken_patterns) {
      if (match_template(line, tmpl)) {
        return std::string(trim(line, " \t\r"));
      }
    }
  }
  return reason_line(output);
}

}  // namespace

std::string lock_held_line(const PackageManager& manager, int exit_code, std::string_view output) {
  if (exit_code == 0) {
    return "";
  }
  return find_line(manager.lock_held_patterns, output);
}

PackageFailure classify_package_outcome(const PackageManager& manager, PackageStep step,
                                        int exit_code, std::string_view output) {
  PackageFailure failure;
  failure.reason = reason_line(output);
  if (exit_code == 0 || contains(manager.success_exit_codes, exit_code)) {
    bool fetched_nothing =
        step == PackageStep::Update && any_in(manager.update_failed_patterns, output);
    failure.kind = fetched_nothing ? PackageFailure::Kind::Transient : PackageFailure::Kind::None;
    if (!manager.broken_patterns.empty() && step != PackageStep::Update) {
      if (failure.broken = find_broken(manager, output); !failure.broken.empty()) {
        failure.kind = PackageFailure::Kind::Broken;
        failure.reason = broken_line(manager, output);
      }
    }
    return failure;
  }
  failure.missing = find_missing(manager, output);
  // A 404 for a package file looks like a network error but is an old
  // index: an update, not a retry, fixes it. Checked before the transient
  // texts, which include "Failed to fetch".
  if (!failure.missing.empty() || contains(manager.missing_exit_codes, exit_code) ||
      any_in(manager.stale_patterns, output)) {
    failure.kind = PackageFailure::Kind::Missing;
  } else if (contains(manager.transient_exit_codes, exit_code) ||
             any_in(manager.transient_patterns, output)) {
    failure.kind = PackageFailure::Kind::Transient;
    // The line that made it transient: dnf follows its lock line with
    // lines about the process holding it, zypper with "Close this
    // application before trying again."
    if (auto line = find_line(manager.transient_patterns, output); !line.empty()) {
      failure.reason = line;
    }
  } else if (failure.broken = find_broken(manager, output); !failure.broken.empty()) {
    failure.kind = PackageFailure::Kind::Broken;
    if (!manager.broken_patterns.empty()) {
      failure.reason = broken_line(manager, output);
    }
  }
  return failure;
}

bool valid_package_name(std::string_view name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name.front())) ||
      name.back() == '-') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._+:-", c) != nullptr;
  });
}

bool valid_package_version(std::string_view version) {
  if (version.empty() || !std::isalnum(static_cast<unsigned char>(version.front()))) {
    return false;
  }
  return std::all_of(version.begin(), version.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr(".+~:_*-", c) != nullptr;
  });
}

}  // namespace amiboot
