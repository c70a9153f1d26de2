// SPDX-License-Identifier: Apache-2.0
#include "modules/sshd_config.h"

#include <algorithm>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

// The keyword of an sshd_config line, lower case; "" for blank lines and
// comments. sshd splits a keyword from its value at whitespace or '='.
std::string keyword_of(const std::string& line) {
  std::string_view s = trim(line);
  if (s.empty() || s[0] == '#') {
    return "";
  }
  return lowercase(std::string(s.substr(0, s.find_first_of(" \t="))));
}

std::size_t first_match_block(const std::vector<std::string>& lines) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (keyword_of(lines[i]) == "match") {
      return i;
    }
  }
  return lines.size();
}

}  // namespace

bool sshd_reads_drop_ins(const SystemView& system) {
  auto config = system.read_text(kSshdConfig);
  if (!config) {
    return system.path_exists("/etc/ssh/sshd_config.d");
  }
  for (const auto& line : split_lines(*config)) {
    if (line.starts_with("Include /etc/ssh/sshd_config.d/*.conf")) {
      return true;
    }
  }
  return false;
}

std::string set_sshd_option(const std::string& config, const std::string& keyword,
                            const std::string& value) {
  std::vector<std::string> lines = split_lines(config);
  std::size_t match = first_match_block(lines);
  std::string wanted = lowercase(keyword);
  bool found = false;
  for (std::size_t i = 0; i < match; ++i) {
    if (keyword_of(lines[i]) == wanted) {
      lines[i] = keyword + " " + value;
      found = true;
    }
  }
  if (!found) {
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(match), keyword + " " + value);
  }
  return join_lines(lines);
}

std::string add_sshd_lines(const std::string& config, const std::vector<std::string>& add) {
  std::vector<std::string> lines = split_lines(config);
  std::size_t match = first_match_block(lines);
  for (const auto& line : add) {
    if (std::find(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(match), line) ==
        lines.begin() + static_cast<std::ptrdiff_t>(match)) {
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(match), line);
      ++match;
    }
  }
  return join_lines(lines);
}

}  // namespace amiboot
