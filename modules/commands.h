// SPDX-License-Identifier: Apache-2.0
// bootcmd and runcmd: one module kind over two keys. Each item is a string
// (a line of shell) or a list (a command and its arguments); a null item is
// skipped, as cloud-init's schema allows. As in cloud-init (util.shellify),
// the items become the lines of ONE /bin/sh script, run as one process: a
// `cd` or an `export` carries over to the items after it, a failing item
// does not stop the rest, and the script's status is its last command's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

inline constexpr char kBootcmd[] = "bootcmd";
inline constexpr char kRuncmd[] = "runcmd";

struct CommandList {
  std::string key;  // "bootcmd", "runcmd": the script's name and label
  /// The script's lines, one per item that is not null: a string item as
  /// it is, a list item with each element single-quoted.
  std::vector<std::string> lines;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CommandList, key, lines)

/// nullopt when `key` is absent; errors go to `out`.
std::optional<CommandList> decode_command_list(const Value& config, const std::string& key,
                                               Diagnostics& out);

/// The decoder of one command-list key, for its table row.
template <const char* Key>
std::optional<CommandList> decode_commands(const Value& config, Diagnostics& out) {
  return decode_command_list(config, Key, out);
}

/// The script cloud-init's util.shellify writes for these items:
/// "#!/bin/sh", then the lines.
std::string shellify(const CommandList& list);

/// A script made from the user data to be run: 0700 root, and not fsynced
/// (as cloud-init writes them). It is written again from the user data
/// whenever its row runs, so a power loss may lose the file, never what
/// running it did; two fsyncs a script were most of writing it.
WriteFile script_file(std::string path, std::string content, std::string label);

/// `folder`/`list.key` written as that script (script_file), then run: the
/// file itself (runcmd, as cloud-init runs its scripts folder) or, with
/// `through_sh`, `/bin/sh FILE` (bootcmd, as cloud-init runs its temporary
/// file).
std::vector<Action> write_and_run_commands(const CommandList& list, const std::string& folder,
                                           bool through_sh);

/// bootcmd: its script in the instance's state folder, run with /bin/sh.
PlanResult plan_commands(const CommandList& list, const Facts& facts);

}  // namespace amiboot
