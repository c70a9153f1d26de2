// SPDX-License-Identifier: Apache-2.0
#include "modules/packages.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "modules/snap.h"

namespace amiboot {

namespace {

// A name that starts with "-" would reach the package manager as an option
// ("--allow-unauthenticated"), others as a removal or a local file.
void add_package(Decoder& decoder, const Value& where, const std::string& path, PackageSpec spec,
                 std::vector<PackageSpec>& out) {
  if (!valid_package_name(spec.name)) {
    decoder.error(where, path,
                  "expected a package name (a letter or digit, then letters, digits and . _ + : "
                  "-, not ending in -), got '" +
                      spec.name + "'");
    return;
  }
  if (!spec.version.empty() && !valid_package_version(spec.version)) {
    decoder.error(where, path,
                  "expected a version (a letter or digit, then letters, digits and . + ~ : _ * "
                  "-), got '" +
                      spec.version + "'");
    return;
  }
  out.push_back(std::move(spec));
}

std::string label(const PackageSpec& spec) {
  return spec.version.empty() ? spec.name : spec.name + "=" + spec.version;
}

}  // namespace

// Image settings: `amiboot: {packages: {lock_timeout_seconds: N, attempts: N,
// retry_deadline_seconds: N}}`.
void decode_package_settings(const Value& config, ManagePackages& action, Diagnostics& out) {
  const Value* settings = config.get(kAmibootKey);
  const Value* packages = settings != nullptr ? settings->get("packages") : nullptr;
  Decoder d(out);
  if (packages == nullptr || d.map(*packages, "amiboot.packages") == nullptr) {
    return;
  }
  d.unknown_keys(*packages, "amiboot.packages",
                 {"lock_timeout_seconds", "attempts", "retry_deadline_seconds"});
  auto number = [&](const char* key, int low, int high, int& field) {
    const Value* v = packages->get(key);
    if (v == nullptr) {
      return;
    }
    std::string path = std::string("amiboot.packages.") + key;
    if (auto n = d.integer(*v, path)) {
      if (*n < low || *n > high) {
        d.error(*v, path,
                "expected " + std::to_string(low) + " to " + std::to_string(high) + ", got " +
                    std::to_string(*n));
      } else {
        field = static_cast<int>(*n);
      }
    }
  };
  number("lock_timeout_seconds", 0, 3600, action.lock_timeout_seconds);
  number("attempts", 1, 20, action.attempts);
  number("retry_deadline_seconds", 0, 86400, action.retry_deadline_seconds);
}

namespace {

// One item of a package list: `name`, `name=version` or `[name, version]`.
void decode_item(Decoder& decoder, const Value& item, const std::string& path,
                 std::vector<PackageSpec>& out) {
  if (item.is_scalar()) {
    // "name=version" is cloud-init's string form of a pinned version.
    std::size_t eq = item.scalar.find('=');
    add_package(decoder, item, path,
                eq == std::string::npos
                    ? PackageSpec{item.scalar, ""}
                    : PackageSpec{item.scalar.substr(0, eq), item.scalar.substr(eq + 1)},
                out);
  } else if (item.is_sequence() && (item.items.size() == 1 || item.items.size() == 2)) {
    auto name = decoder.string(item.items[0], path + "[0]");
    std::optional<std::string> version = std::string();
    if (item.items.size() == 2) {
      version = decoder.string(item.items[1], path + "[1]");
    }
    if (name && version) {
      add_package(decoder, item, path, {*name, *version}, out);
    }
  } else {
    decoder.error(item, path,
                  "expected a package name, a [name, version] list or a map of apt and snap "
                  "lists, got " +
                      item.type_name());
  }
}

// Snap names: lowercase letters, digits and hyphens, and an optional
// instance key after "_" (snapd's rules); nothing that snap would read as an
// option.
bool valid_snap_name(const std::string& name) {
  return !name.empty() && name.front() != '-' && name.front() != '_' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
         });
}

// A `snap:` list, as cloud-init's snap package manager reads it: `name`,
// `name=argument` or `[name, argument]` (`[juju, --classic]`,
// `[lxd, --channel=5.15/stable]`) become `snap install name [argument]`.
void decode_snaps(Decoder& decoder, const Value& list, const std::string& path,
                  PackagesConfig& cfg) {
  if (decoder.list(list, path) == nullptr) {
    return;
  }
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    const Value& item = list.items[i];
    std::string where = path + "[" + std::to_string(i) + "]";
    std::vector<std::string> args;
    if (item.is_scalar()) {
      std::size_t eq = item.scalar.find('=');
      args.push_back(item.scalar.substr(0, eq));
      if (eq != std::string::npos && eq + 1 < item.scalar.size()) {
        args.push_back(item.scalar.substr(eq + 1));
      }
    } else if (item.is_sequence() && (item.items.size() == 1 || item.items.size() == 2) &&
               std::all_of(item.items.begin(), item.items.end(),
                           [](const Value& v) { return v.is_scalar(); })) {
      args.push_back(item.items[0].scalar);
      if (item.items.size() == 2 && !item.items[1].scalar.empty()) {
        args.push_back(item.items[1].scalar);
      }
    } else {
      decoder.error(item, where,
                    "expected a snap name or a [name, option] list, got " + item.type_name());
      continue;
    }
    if (!valid_snap_name(args[0])) {
      decoder.error(
          item, where,
          "expected a snap name (lowercase letters, digits and -), got '" + args[0] + "'");
      continue;
    }
    cfg.snaps.push_back(std::move(args));
  }
}

// cloud-init 23.4's `- apt: [...]` and `- snap: [...]` items.
void decode_by_manager(Decoder& decoder, const Value& item, const std::string& path,
                       PackagesConfig& cfg) {
  for (const auto& entry : item.entries) {
    std::string sub = path + "." + entry.key;
    if (entry.key == "snap") {
      decode_snaps(decoder, entry.value, sub, cfg);
      continue;
    }
    if (entry.key != "apt") {
      decoder.error(entry.value, sub, "expected apt or snap, got '" + entry.key + "'");
      continue;
    }
    if (decoder.list(entry.value, sub) == nullptr) {
      continue;
    }
    for (std::size_t i = 0; i < entry.value.items.size(); ++i) {
      decode_item(decoder, entry.value.items[i], sub + "[" + std::to_string(i) + "]",
                  cfg.apt_packages);
    }
  }
}

}  // namespace

std::optional<PackagesConfig> decode_packages(const Value& config, Diagnostics& out) {
  Decoder decoder(out);
  PackagesConfig cfg;
  if (const Value* list = config.get("packages"); list != nullptr && !list->is_null()) {
    if (decoder.list(*list, "packages") != nullptr) {
      for (std::size_t i = 0; i < list->items.size(); ++i) {
        const Value& item = list->items[i];
        std::string path = "packages[" + std::to_string(i) + "]";
        if (item.is_map()) {
          decode_by_manager(decoder, item, path, cfg);
        } else {
          decode_item(decoder, item, path, cfg.packages);
        }
      }
    }
  }
  // cloud-init reads the deprecated apt_* names too: either key set true
  // turns the step on (cc_package_update_upgrade_install's
  // _multi_cfg_bool_get), whichever of the two it is.
  struct Flag {
    const char* key;
    const char* deprecated;
    bool* field;
  };
  for (const Flag& flag :
       {Flag{"package_update", "apt_update", &cfg.update},
        Flag{"package_upgrade", "apt_upgrade", &cfg.upgrade},
        Flag{"package_reboot_if_required", "apt_reboot_if_required", &cfg.reboot_if_required}}) {
    if (const Value* v = config.get(flag.deprecated)) {
      decoder.warning(*v, flag.deprecated,
                      std::string("deprecated (cloud-init 22.2); use ") + flag.key + " instead");
      *flag.field = decoder.boolean(*v, flag.deprecated).value_or(false);
    }
    if (const Value* v = config.get(flag.key)) {
      *flag.field = decoder.boolean(*v, flag.key).value_or(false) || *flag.field;
    }
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  return cfg;
}

namespace {

// After the package manager, as cloud-init installs snaps: one `snap
// install` each (snap cannot say which of several failed), each tried.
void plan_snaps(const PackagesConfig& config, const Facts& input, PlanResult& result) {
  if (config.snaps.empty()) {
    return;
  }
  std::string names;
  for (const auto& args : config.snaps) {
    names += (names.empty() ? "" : ", ") + args[0];
  }
  if (!input.system.has_program("snap")) {
    result.diagnostics.push_back(
        {Diagnostic::Severity::Warning,
         {},
         "packages",
         "snapd is not on this image (no snap command): the snap: packages are not installed (" +
             names + ")"});
    return;
  }
  result.actions.push_back(snap_wait_for_seed("packages: waiting for snapd to load its seed"));
  for (const auto& args : config.snaps) {
    RunCommand install{{"snap", "install"}, "packages: snap install " + args[0]};
    install.argv.insert(install.argv.end(), args.begin(), args.end());
    install.needs_host = true;  // the running snapd, never a root's
    result.actions.push_back(install);
  }
}

// The image's package manager: packages, apt: lists, update and upgrade.
PlanResult plan_manager_packages(const PackagesConfig& config, const Facts& input) {
  PlanResult result;
  const PackagesConfig* cfg = &config;
  if (cfg->packages.empty() && cfg->apt_packages.empty() && !cfg->update && !cfg->upgrade) {
    return result;
  }
  ManagePackages action{.packages = cfg->packages,
                        .update = cfg->update,
                        .upgrade = cfg->upgrade,
                        .reboot_if_required = cfg->reboot_if_required};
  Diagnostics settings;
  decode_package_settings(input.image_config, action, settings);
  result.diagnostics.insert(result.diagnostics.end(), settings.begin(), settings.end());
  auto os = read_os_release(input.system);
  if (!os) {
    result.diagnostics.push_back(
        {Diagnostic::Severity::Error,
         {},
         "packages",
         "neither /etc/os-release nor /usr/lib/os-release exists: cannot tell which package "
         "manager this image uses"});
    return result;
  }
  ManagerChoice choice = choose_package_manager(*os, input.system);
  if (choice.manager == nullptr) {
    result.diagnostics.push_back({Diagnostic::Severity::Error, {}, "packages", choice.why});
    return result;
  }
  action.manager = choice.manager->name;
  if (action.manager == "apt") {
    action.packages.insert(action.packages.end(), cfg->apt_packages.begin(),
                           cfg->apt_packages.end());
  } else if (!cfg->apt_packages.empty()) {
    result.diagnostics.push_back(
        {Diagnostic::Severity::Warning,
         {},
         "packages",
         "the apt: list is skipped: this image's package manager is " + choice.manager->program});
  }
  if (action.packages.empty() && !action.update && !action.upgrade) {
    return result;
  }
  result.actions.push_back(action);
  result.summary =
      std::to_string(action.packages.size()) + " package(s) via " + choice.manager->program;
  return result;
}

}  // namespace

PlanResult plan_packages(const PackagesConfig& config, const Facts& input) {
  PlanResult result = plan_manager_packages(config, input);
  std::size_t before = result.actions.size();
  plan_snaps(config, input, result);
  // No package manager to be found does not keep the snaps out.
  result.apply_with_errors = result.actions.size() > before;
  if (!config.snaps.empty() && input.system.has_program("snap")) {
    result.summary +=
        (result.summary.empty() ? "" : ", ") + std::to_string(config.snaps.size()) + " snap(s)";
  }
  return result;
}

PackageSession::PackageSession(const PackageManager& manager, const ManagePackages& request)
    : m_manager(manager), m_request(request) {
  if (request.update || request.upgrade) {
    m_queue.push_back({PackageStep::Update, {}});
  }
  if (request.upgrade) {
    m_queue.push_back({PackageStep::Upgrade, {}});
  }
  if (!request.packages.empty()) {
    m_queue.push_back({PackageStep::Install, request.packages});
  }
}

std::optional<PackageCommand> PackageSession::next() const {
  if (m_queue.empty()) {
    return std::nullopt;
  }
  const Pending& p = m_queue.front();
  return PackageCommand{p.step, p.packages,
                        package_argv(m_manager, p.step, p.packages, m_request.lock_timeout_seconds),
                        m_retry};
}

std::string PackageSession::what(const Pending& p) const {
  switch (p.step) {
    case PackageStep::Update:
      return "updating the package index";
    case PackageStep::Upgrade:
      return "upgrading the installed packages";
    case PackageStep::Install:
      break;
  }
  std::string names;
  for (const auto& spec : p.packages) {
    names += (names.empty() ? "" : ", ") + label(spec);
  }
  return "installing " + names;
}

void PackageSession::finish_step() {
  m_queue.pop_front();
  m_retry = 0;
}

void PackageSession::record(int exit_code, std::string_view output) {
  if (m_queue.empty()) {
    return;
  }
  Pending current = m_queue.front();
  if (current.step == PackageStep::Update) {
    m_updated = true;
  }
  PackageFailure failure = classify_package_outcome(m_manager, current.step, exit_code, output);
  if (failure.kind == PackageFailure::Kind::None) {
    m_changed = m_changed || current.step != PackageStep::Update;
    finish_step();
    return;
  }
  std::string status = m_manager.program + " exited with status " + std::to_string(exit_code) +
                       (failure.reason.empty() ? "" : ": " + failure.reason);
  if (failure.kind == PackageFailure::Kind::Transient) {
    if (m_retry + 1 < m_request.attempts) {
      ++m_retry;
      m_last_status = status;
      m_notes.push_back(what(current) + " failed, will try again (" + status + ")");
      return;
    }
    m_errors.push_back(what(current) + " failed after " + std::to_string(m_request.attempts) +
                       (m_request.attempts == 1 ? " try (" : " tries (") + status + ")");
    finish_step();
    return;
  }
  if (current.step != PackageStep::Install) {
    // The install may still work from the index the image has.
    m_errors.push_back(what(current) + " failed (" + status + ")");
    finish_step();
    return;
  }
  finish_step();
  switch (failure.kind) {
    case PackageFailure::Kind::Missing:
      if (!m_updated) {
        m_notes.push_back(what(current) + " failed (" + status +
                          "); updating the package index and trying again");
        m_queue.push_front(current);
        m_queue.push_front({PackageStep::Update, {}});
        return;
      }
      return install_without_missing(current, failure, status);
    case PackageFailure::Kind::Broken:
      return report_broken(current, failure);
    default:
      return install_each(current, status);
  }
}

void PackageSession::give_up(const std::string& why) {
  if (m_queue.empty() || m_retry == 0) {
    return;
  }
  m_errors.push_back(what(m_queue.front()) + " failed after " + std::to_string(m_retry) +
                     (m_retry == 1 ? " try" : " tries") + ", " + why + " (" + m_last_status + ")");
  finish_step();
}

bool PackageSession::is(const PackageSpec& spec, const std::string& printed) const {
  // rpm names a package name-version-release.arch.
  bool nevra = printed.size() > spec.name.size() + 1 && printed.starts_with(spec.name + "-") &&
               std::isdigit(static_cast<unsigned char>(printed[spec.name.size() + 1])) != 0;
  return nevra || printed == spec.name || printed == package_argument(m_manager, spec);
}

void PackageSession::install_without_missing(const Pending& current, const PackageFailure& failure,
                                             const std::string& status) {
  std::vector<PackageSpec> rest;
  for (const auto& spec : current.packages) {
    auto named = std::find_if(failure.missing.begin(), failure.missing.end(),
                              [&](const NamedPackage& p) { return is(spec, p.name); });
    if (named == failure.missing.end()) {
      rest.push_back(spec);
      continue;
    }
    // The manager's line about this package, not its last line.
    m_errors.push_back(
        "package " + label(spec) +
        (spec.version.empty() ? ": no such package" : ": no such package or version") +
        " in the image's repositories (" + m_manager.program + ": " + named->line + ")");
  }
  if (rest.empty()) {
    return;
  }
  if (rest.size() < current.packages.size()) {
    m_notes.push_back("installing the other packages without the missing ones");
    m_queue.push_front({PackageStep::Install, rest});
    return;
  }
  install_each(current, status);
}

// dpkg configured everything it did not list: a retry would only run the
// failing postinst again and blame whichever package came with it.
void PackageSession::report_broken(const Pending& current, const PackageFailure& failure) {
  m_changed = true;
  bool ours = false;
  for (const auto& spec : current.packages) {
    if (std::any_of(failure.broken.begin(), failure.broken.end(),
                    [&](const std::string& name) { return is(spec, name); })) {
      ours = true;
      m_errors.push_back("package " + label(spec) + ": installed but not configured (" +
                         failure.reason + "); its maintainer script failed, see the journal");
    }
  }
  if (!ours) {
    std::string names;
    for (const auto& name : failure.broken) {
      names += (names.empty() ? "" : ", ") + name;
    }
    m_errors.push_back(what(current) + " left " + names + " not configured (" + failure.reason +
                       ")");
  }
}

void PackageSession::install_each(const Pending& current, const std::string& status) {
  if (current.packages.size() == 1) {
    m_errors.push_back("package " + label(current.packages[0]) + ": install failed (" + status +
                       ")");
    return;
  }
  m_notes.push_back(what(current) + " failed (" + status + "); installing each package on its own");
  for (auto it = current.packages.rbegin(); it != current.packages.rend(); ++it) {
    m_queue.push_front({PackageStep::Install, {*it}});
  }
}

std::vector<std::string> PackageSession::take_notes() {
  return std::exchange(m_notes, {});
}

}  // namespace amiboot
