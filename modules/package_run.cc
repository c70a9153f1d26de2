// SPDX-License-Identifier: Apache-2.0
#include "modules/package_run.h"

#include <syslog.h>

#include "modules/package_managers.h"
#include "modules/packages.h"

namespace amiboot {

namespace {

PackageCommands::Outcome run_command(const std::vector<std::string>& argv,
                                     const PackageManager& manager, const ManagePackages& p,
                                     PackageCommands& commands) {
  std::map<std::string, std::string> env;
  for (const auto& [key, value] : package_env(manager, p.lock_timeout_seconds)) {
    env[key] = value;
  }
  // The manager's root options only for the manager itself (yum's reboot
  // check is another program).
  static const std::vector<std::string> kNone;
  return commands.run(argv, env, manager.program,
                      !argv.empty() && argv[0] == manager.program ? manager.root_options : kNone);
}

// dnf and yum give up at once on a held lock (exit_on_lock); wait for it
// here as apt-get and zypper do inside the tool: the same command again every
// second, up to lock_timeout_seconds. What comes out after that is recorded
// as usual (a lock still held is a transient failure, tried again).
PackageCommands::Outcome wait_out_lock(const std::vector<std::string>& argv,
                                       const PackageManager& manager, const ManagePackages& p,
                                       PackageCommands& commands,
                                       PackageCommands::Outcome outcome) {
  constexpr std::chrono::seconds kPoll(1);
  const std::chrono::seconds limit(p.lock_timeout_seconds);
  std::string line = lock_held_line(manager, outcome.exit_code, outcome.output);
  if (line.empty()) {
    return outcome;
  }
  const auto since = commands.now();
  commands.log(LOG_INFO, p.label + ": " + manager.program + " is locked by another process (" +
                             line + "); waiting up to " + std::to_string(limit.count()) +
                             " s (lock_timeout_seconds)");
  while (!line.empty()) {
    if (commands.now() + kPoll > since + limit) {
      commands.log(LOG_WARNING, p.label + ": " + manager.program + " still locked after " +
                                    std::to_string(limit.count()) + " s (" + line + ")");
      return outcome;
    }
    commands.sleep_for(kPoll);
    outcome = run_command(argv, manager, p, commands);
    line = lock_held_line(manager, outcome.exit_code, outcome.output);
  }
  commands.log(LOG_INFO, p.label + ": the " + manager.program + " lock is free again");
  return outcome;
}

bool reboot_needed(const PackageManager& manager, const ManagePackages& p,
                   PackageCommands& commands) {
  if (!manager.reboot_file.empty() && commands.exists(manager.reboot_file)) {
    commands.log(LOG_NOTICE, p.label + ": " + manager.reboot_file + " exists");
    return true;
  }
  if (manager.reboot_check.empty()) {
    return false;
  }
  auto outcome = run_command(manager.reboot_check, manager, p, commands);
  if (outcome.exit_code == 127) {
    commands.log(LOG_WARNING, p.label + ": cannot tell whether a reboot is needed: " +
                                  manager.reboot_check[0] + " did not run");
    return false;
  }
  return outcome.exit_code == manager.reboot_exit_code &&
         outcome.output.find(manager.reboot_pattern) != std::string::npos;
}

}  // namespace

PackageOutcome run_packages(const ManagePackages& p, PackageCommands& commands) {
  PackageOutcome result;
  const PackageManager* manager = find_package_manager(p.manager);
  if (manager == nullptr) {
    result.errors.push_back(p.label + ": unknown package manager " + p.manager);
    return result;
  }
  PackageSession session(*manager, p);
  auto notes = [&] {
    for (const auto& note : session.take_notes()) {
      commands.log(LOG_WARNING, p.label + ": " + note);
    }
  };
  // Retries are bounded in count (attempts) and in time: none starts later
  // than the deadline after the first command, which the first retry says.
  const auto started = commands.now();
  const std::chrono::seconds deadline(p.retry_deadline_seconds);
  bool deadline_told = false;
  while (auto command = session.next()) {
    if (command->retry > 0) {
      auto delay = commands.backoff(command->retry);
      if (commands.now() + delay > started + deadline) {
        session.give_up("no more tries: the " + std::to_string(deadline.count()) +
                        " s retry deadline would pass");
        notes();
        continue;
      }
      std::string line = p.label + ": try " + std::to_string(command->retry + 1) + " of " +
                         std::to_string(p.attempts) + " in " + std::to_string(delay.count()) +
                         " ms";
      if (!deadline_told) {
        deadline_told = true;
        line += " (will try for up to " + std::to_string(deadline.count()) + " s)";
      }
      commands.log(LOG_INFO, line);
      commands.sleep_for(delay);
    }
    commands.log(LOG_INFO, p.label + ": running " + quote_argv(command->argv));
    auto outcome = wait_out_lock(command->argv, *manager, p, commands,
                                 run_command(command->argv, *manager, p, commands));
    session.record(outcome.exit_code, outcome.output);
    notes();
  }
  for (const auto& e : session.errors()) {
    commands.log(LOG_ERR, p.label + ": " + e);
    result.errors.push_back(e);
  }
  if (p.reboot_if_required && session.changed() && reboot_needed(*manager, p, commands)) {
    commands.log(LOG_NOTICE,
                 p.label + ": a reboot is required; rebooting at the end of the final stage");
    result.reboot_required = true;
  }
  return result;
}

}  // namespace amiboot
