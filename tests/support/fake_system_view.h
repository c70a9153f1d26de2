// SPDX-License-Identifier: Apache-2.0
// An in-memory SystemView for module plan tests: files, folders and programs
// are whatever the test puts in.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot::testing {

class FakeSystemView : public SystemView {
 public:
  std::map<std::string, std::string> files;                     // path -> content
  std::map<std::string, std::vector<std::string>> executables;  // dir -> names
  std::set<std::string> programs;

  std::vector<std::string> executables_in(const std::string& dir) const override {
    auto it = executables.find(dir);
    return it == executables.end() ? std::vector<std::string>{} : it->second;
  }
  std::optional<std::string> read_text(const std::string& path) const override {
    auto it = files.find(path);
    return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  bool path_exists(const std::string& path) const override {
    if (files.count(path) > 0) {
      return true;
    }
    return !list(path).empty();
  }
  std::vector<std::string> list(const std::string& dir) const override {
    std::set<std::string> names;
    std::string prefix = dir.back() == '/' ? dir : dir + "/";
    for (const auto& [path, content] : files) {
      if (path.rfind(prefix, 0) == 0) {
        std::string rest = path.substr(prefix.size());
        names.insert(rest.substr(0, rest.find('/')));
      }
    }
    return {names.begin(), names.end()};
  }
  bool has_program(const std::string& name) const override { return programs.count(name) > 0; }
};

}  // namespace amiboot::testing
