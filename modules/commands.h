// SPDX-License-Identifier: Apache-2.0
// bootcmd and runcmd: one module kind over two keys. Each item is a string
// (run with `sh -c`, as cloud-init does) or a list (an argv); a null item is
// skipped, as cloud-init's schema allows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

inline constexpr char kBootcmd[] = "bootcmd";
inline constexpr char kRuncmd[] = "runcmd";

struct CommandList {
  std::string key;  // "bootcmd", "runcmd": the labels' prefix
  std::vector<std::vector<std::string>> commands;
  /// Each command's index in the user's list (null items are skipped, and
  /// runcmd[2] stays runcmd[2]); empty means 0, 1, 2, ...
  std::vector<std::size_t> indexes;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CommandList, key, commands, indexes)

/// nullopt when `key` is absent; errors go to `out`.
std::optional<CommandList> decode_command_list(const Value& config, const std::string& key,
                                               Diagnostics& out);

/// The decoder of one command-list key, for its table row.
template <const char* Key>
std::optional<CommandList> decode_commands(const Value& config, Diagnostics& out) {
  return decode_command_list(config, Key, out);
}

PlanResult plan_commands(const CommandList& list, const Facts& facts);

}  // namespace amiboot
