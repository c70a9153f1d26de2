// SPDX-License-Identifier: Apache-2.0
// A file's owner as cloud-init's write_files takes it, `user[:group]`, each
// part a name or a number: checked when the config is decoded, so a bad one
// is an error with its position and not, at run time, a failed entry after
// others were written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace amiboot {

struct OwnerParts {
  std::string user;
  std::string group;  // empty: the user's own group
};

/// Splits `user[:group]`; nullopt when the text is not of that form.
std::optional<OwnerParts> split_owner(std::string_view owner);

/// A uid or gid written in decimal, nullopt when it is not one: the digits
/// must fit 32 bits, and 4294967295 ((uid_t)-1, "no change" to chown) is
/// none either. "4294967296" must not wrap around to root.
std::optional<std::uint32_t> parse_id(std::string_view digits);

/// Why `owner` is not `user[:group]` with each part a name or a valid id,
/// or "" when it is.
std::string owner_problem(std::string_view owner);

}  // namespace amiboot
