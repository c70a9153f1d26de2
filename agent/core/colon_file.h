// SPDX-License-Identifier: Apache-2.0
// /etc/passwd, /etc/group and /etc/shadow as text: their entries by name,
// one reader for the users module, write_files' owner check and the
// executor's owner lookup.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amiboot {

/// name -> the fields of its entry. Comments and NIS lines ("+", "-") are
/// not entries; of two entries with one name the first counts, as it does
/// for getpwnam(3).
using ColonFile = std::map<std::string, std::vector<std::string>, std::less<>>;
ColonFile parse_colon_file(std::string_view text);

/// The fields of the entry named `name`, as parse_colon_file finds it.
std::optional<std::vector<std::string>> colon_file_entry(std::string_view text,
                                                         std::string_view name);

}  // namespace amiboot
