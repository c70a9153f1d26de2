// SPDX-License-Identifier: Apache-2.0
#include "agent/core/colon_file.h"

#include "agent/core/strings.h"

namespace amiboot {

namespace {

// Calls `f` with each entry line, until it returns true.
template <typename F>
void for_each_entry(std::string_view text, F f) {
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') {
      continue;
    }
    if (f(line)) {
      return;
    }
  }
}

}  // namespace

ColonFile parse_colon_file(std::string_view text) {
  ColonFile out;
  for_each_entry(text, [&](std::string_view line) {
    std::vector<std::string> fields = split_colon_fields(line);
    out.emplace(fields[0], std::move(fields));
    return false;
  });
  return out;
}

std::optional<std::vector<std::string>> colon_file_entry(std::string_view text,
                                                         std::string_view name) {
  std::optional<std::vector<std::string>> found;
  for_each_entry(text, [&](std::string_view line) {
    if (line.size() > name.size() && line.starts_with(name) && line[name.size()] == ':') {
      found = split_colon_fields(line);
    }
    return found.has_value();
  });
  return found;
}

}  // namespace amiboot
