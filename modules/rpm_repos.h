// SPDX-License-Identifier: Apache-2.0
// yum_add_repo and zypper_add_repo: cloud-init's `yum_repos` (with
// `yum_repo_dir`) and `zypper` (`repos`, `config`): one INI file per
// repository in the image's repository folder, every option passed through
// as cloud-init writes it (booleans as 1/0, lists one value a line), then
// the package manager's index refreshed so a later install finds the new
// repository's packages.
//
// Where amiboot differs from cloud-init, on purpose: a repository id with
// characters beyond [A-Za-z0-9_.-] (after cloud-init turns spaces into - or
// _) and a repository with neither baseurl nor mirrorlist/metalink are
// errors, not a skip with a warning: the id is a file name, and a
// repository that cannot be used would leave its packages silently missing.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/module.h"

namespace amiboot {

struct RpmRepo {
  std::string id;
  /// Options in the order given, names lowercased with - as _, values as
  /// they are written (`1`, `http://a\n\thttp://b`).
  std::vector<std::pair<std::string, std::string>> options;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RpmRepo, id, options)

struct YumReposConfig {
  std::string repo_dir = "/etc/yum.repos.d";
  std::vector<RpmRepo> repos;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(YumReposConfig, repo_dir, repos)

struct ZypperConfig {
  std::string repo_dir = "/etc/zypp/repos.d";
  std::vector<RpmRepo> repos;
  std::vector<std::pair<std::string, std::string>> config;  // zypp.conf settings
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ZypperConfig, repo_dir, repos, config)

std::optional<YumReposConfig> decode_yum_add_repo(const Value& doc, Diagnostics& out);
PlanResult plan_yum_add_repo(const YumReposConfig& config, const Facts& facts);

std::optional<ZypperConfig> decode_zypper_add_repo(const Value& doc, Diagnostics& out);
PlanResult plan_zypper_add_repo(const ZypperConfig& config, const Facts& facts);

/// The `.repo` file's text for one repository, as cloud-init formats it.
std::string yum_repo_file(const RpmRepo& repo);
std::string zypper_repo_file(const RpmRepo& repo);

}  // namespace amiboot
