// SPDX-License-Identifier: Apache-2.0
#include "modules/authorized_keys.h"

#include "agent/core/strings.h"

namespace amiboot {

namespace {

// The key blob of an authorized_keys line: the first base64 word after the
// key type, with or without leading options.
std::string key_blob(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    }
    if (!quoted && (c == ' ' || c == '\t')) {
      if (!word.empty()) {
        words.push_back(word);
      }
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) {
    words.push_back(word);
  }
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.rfind("ssh-", 0) == 0 || w.rfind("ecdsa-", 0) == 0 || w.rfind("sk-", 0) == 0) {
      return words[i + 1];
    }
  }
  return line;
}

}  // namespace

std::string merge_authorized_keys(const std::string& existing, const std::vector<std::string>& keys,
                                  const std::string& options) {
  std::vector<std::string> lines = split_lines(existing);
  for (const auto& key : keys) {
    std::string wanted = options.empty() ? key : options + " " + key;
    std::string blob = key_blob(key);
    bool found = false;
    for (auto& line : lines) {
      std::string t(trim(line, " \t"));
      if (!t.empty() && t[0] != '#' && key_blob(t) == blob) {
        line = wanted;
        found = true;
      }
    }
    if (!found) {
      lines.push_back(wanted);
    }
  }
  return join_lines(lines);
}

}  // namespace amiboot
