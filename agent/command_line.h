// SPDX-License-Identifier: Apache-2.0
// Command-line options of amiboot's and cloud-init's subcommands, parsed by
// getopt_long, so that both behave as GNU tools do: --opt VALUE, --opt=VALUE,
// -o VALUE, -oVALUE, grouped short flags, unique prefixes of long names,
// options before or after positionals, and `--` ending the options.
#pragma once

#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace amiboot {

/// One option: `--long_name` and, when short_name is not 0, `-short_name`.
struct OptionSpec {
  const char* long_name;
  char short_name = 0;
  bool takes_value = false;
};

/// Bad usage: an unknown option, a missing value, a surplus argument. The
/// caller prints what() and the usage to stderr and exits 2.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The options found, by long name, and the positionals in order.
class ParsedOptions {
 public:
  /// Given at least once (a flag, or an option with a value).
  bool has(const std::string& long_name) const;
  /// The last value given for an option that takes one.
  std::optional<std::string> value(const std::string& long_name) const;

  std::vector<std::string> positionals;
  /// -h or --help was given (every command takes them).
  bool help = false;

 private:
  friend ParsedOptions parse_options(const std::vector<std::string>&, std::span<const OptionSpec>,
                                     std::size_t, bool);
  std::vector<std::pair<std::string, std::string>> m_found;
};

/// No limit on positionals.
inline constexpr std::size_t kAnyPositionals = static_cast<std::size_t>(-1);

/// Parses `args` (without the program and command names) against `specs`,
/// plus -h/--help. Throws UsageError for an unknown option, a value missing
/// or given to a flag, or more than `max_positionals` positionals. With
/// `options_first`, options end at the first positional (a command name:
/// what follows it is the command's), as getopt's "+" does.
ParsedOptions parse_options(const std::vector<std::string>& args, std::span<const OptionSpec> specs,
                            std::size_t max_positionals, bool options_first = false);

}  // namespace amiboot
