// SPDX-License-Identifier: Apache-2.0
// The module table against the README and itself. Unique names and keys
// cloud-init's list of modules we lack must not hold are checked by
// ModuleTable.EveryModuleIsFoundByNameAndKeysAreOwnedOnce (modules_test.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "modules/module.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

struct ReadmeRow {
  std::string module;  // "write_files", "firewall *(ours)*", "scripts_per_once/boot/instance"
  std::set<std::string> keys;  // every `backticked` word of the keys column
  std::string stage;           // the stage column's first word: "init", "final"
};

/// The rows of README.md's "| module | keys | stage | frequency |" table.
std::vector<ReadmeRow> readme_module_table() {
  std::istringstream readme(testing::read_file(testing::source_dir() + "/README.md"));
  std::vector<ReadmeRow> rows;
  bool in_table = false;
  for (std::string line; std::getline(readme, line);) {
    if (line.starts_with("| module | keys |")) {
      in_table = true;
      continue;
    }
    if (!in_table || line.starts_with("|---")) {
      continue;
    }
    if (!line.starts_with("|")) {
      break;
    }
    std::vector<std::string> cells;
    std::istringstream split(line.substr(1));
    for (std::string cell; std::getline(split, cell, '|');) {
      cells.push_back(cell);
    }
    if (cells.size() < 2) {
      continue;
    }
    std::string stage;
    if (cells.size() > 2) {
      std::istringstream words(cells[2]);
      words >> stage;
      stage = stage.substr(0, stage.find(','));
    }
    ReadmeRow row{cells[0], {}, stage};
    for (auto open = cells[1].find('`'); open != std::string::npos;) {
      auto close = cells[1].find('`', open + 1);
      if (close == std::string::npos) {
        break;
      }
      row.keys.insert(cells[1].substr(open + 1, close - open - 1));
      open = cells[1].find('`', close + 1);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

/// The names a README module cell stands for: "scripts_per_once/boot/instance"
/// is scripts_per_once, scripts_per_boot and scripts_per_instance.
std::set<std::string> names_in(const std::string& cell) {
  std::string first = cell.substr(cell.find_first_not_of(' '));
  first = first.substr(0, first.find(' '));
  std::set<std::string> names;
  std::string stem;
  std::istringstream split(first);
  for (std::string part; std::getline(split, part, '/');) {
    if (stem.empty()) {
      stem = part.substr(0, part.rfind('_') + 1);
      names.insert(part);
    } else {
      names.insert(stem + part);
    }
  }
  return names;
}

TEST(Registry, EveryModuleAndKeyIsInTheReadmeModuleTable) {
  auto readme = readme_module_table();
  ASSERT_FALSE(readme.empty()) << "no '| module | keys |' table in README.md";
  std::set<std::string> names;
  std::set<std::string> keys;
  for (const auto& row : readme) {
    names.merge(names_in(row.module));
    keys.insert(row.keys.begin(), row.keys.end());
  }
  for (const auto& m : module_table()) {
    EXPECT_TRUE(names.contains(std::string(m.name)))
        << "README.md's module table has no row for " << m.name;
    for (auto key : m.keys) {
      EXPECT_TRUE(keys.contains(std::string(key)))
          << "README.md's module table does not name `" << key << "` (module " << m.name << ")";
    }
  }
}

TEST(Registry, TheReadmeModuleTableNamesEachModulesStage) {
  std::map<std::string, std::string> stage_of;
  for (const auto& row : readme_module_table()) {
    for (const auto& name : names_in(row.module)) {
      stage_of[name] = row.stage;
    }
  }
  for (const auto& m : module_table()) {
    EXPECT_EQ(stage_of[std::string(m.name)], stage_name(m.stage))
        << "README.md's module table gives " << m.name << " another stage";
  }
}

/// The row's place in the module table (the table's size, and a failure,
/// when there is none).
std::size_t at(std::string_view name) {
  const auto& table = module_table();
  auto it = std::find_if(table.begin(), table.end(), [&](const auto& m) { return m.name == name; });
  EXPECT_NE(it, table.end()) << "no row " << name;
  return static_cast<std::size_t>(it - table.begin());
}

// update-ca-certificates takes tens of seconds on a small vCPU, and sshd
// starts after the init stage: ca_certs is in the final stage, right after
// the rest of the host keys, before every row that fetches over TLS with
// the image's trust store (or installs what may).
TEST(Registry, CaCertsRunsInTheFinalStageBeforeAnythingThatFetches) {
  const auto& table = module_table();
  std::size_t ca = at("ca_certs");
  ASSERT_LT(ca, table.size());
  EXPECT_EQ(table[ca].stage, Stage::Final);
  EXPECT_EQ(ca, at("ssh_host_keys_final") + 1);
  for (auto later : {"snap", "apt_configure", "yum_add_repo", "zypper_add_repo", "ntp",
                     "write_files_deferred", "packages", "scripts_per_once", "scripts_per_boot",
                     "scripts_per_instance", "scripts_user", "phone_home", "readiness"}) {
    EXPECT_LT(ca, at(later)) << later;
  }
}

TEST(Registry, RsyslogReadsTheTrustStoreAgainRightAfterCaCerts) {
  const auto& rows = module_table();
  std::size_t again = at("rsyslog_after_ca_certs");
  std::size_t first = at("rsyslog");
  ASSERT_LT(std::max(again, first), rows.size());
  EXPECT_EQ(again, at("ca_certs") + 1);
  EXPECT_EQ(rows[again].stage, Stage::Final);
  EXPECT_EQ(rows[first].stage, Stage::Init);
}

// cloud-init's schema: `defer` writes the file "after users were created,
// and packages were installed" (write_files_deferred follows
// package_update_upgrade_install in its final stage).
TEST(Registry, DeferredFilesAreWrittenAfterPackagesAreInstalled) {
  EXPECT_GT(at("write_files_deferred"), at("packages"));
  EXPECT_GT(at("write_files_deferred"), at("users"));
  EXPECT_LT(at("write_files_deferred"), at("scripts_user"));
}

TEST(Registry, RowsShareAKeyOnlyWhenTheyShareTheDecoder) {
  std::map<std::string_view, const ModuleSpec*> owner;
  for (const auto& m : module_table()) {
    for (auto key : m.keys) {
      auto [it, first] = owner.emplace(key, &m);
      if (!first) {
        // write_files and write_files_deferred: one decoded config, two plans.
        EXPECT_EQ(it->second->decoder_id, m.decoder_id)
            << key << " is owned by " << it->second->name << " and " << m.name
            << " with different decoders";
      }
    }
  }
}

}  // namespace
}  // namespace amiboot

namespace amiboot {
namespace {

TEST(Registry, EveryFinalStageConfigIsStoredForTheFinalStage) {
  // The final stage runs in a process of its own and plans from what the
  // init stage decoded; a row it could not restore would be decoded again.
  for (const auto& m : module_table()) {
    if (m.stage == Stage::Final) {
      EXPECT_NE(m.store, nullptr) << m.name << "'s config has no to_json";
      EXPECT_NE(m.load, nullptr) << m.name << "'s config has no from_json";
    }
  }
}

}  // namespace
}  // namespace amiboot
