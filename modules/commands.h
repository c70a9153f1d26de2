// The command-list shape shared by bootcmd and runcmd: each item is a string
// (run with `sh -c`, as cloud-init does) or a list (an argv).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "modules/module.h"

namespace amiboot {

/// nullopt when `key` is absent; an empty optional vector plus errors when malformed.
std::optional<std::vector<std::vector<std::string>>> decode_command_list(const Value& config,
                                                                         const std::string& key,
                                                                         Decoder& decoder);

std::vector<Action> run_commands(const std::vector<std::vector<std::string>>& commands,
                                 const std::string& key);

}  // namespace amiboot

namespace amiboot {

/// check() and plan() of a module whose one key is a command list.
void check_command_key(const Value& config, const std::string& key, Diagnostics& out);
PlanResult plan_command_key(const ModuleInput& input, const std::string& key);

}  // namespace amiboot
