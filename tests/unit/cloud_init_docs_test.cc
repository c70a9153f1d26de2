// Every example in cloud-init's module documentation through `amiboot
// validate` (issue 12): each is accepted, and each top-level key in it is
// either owned by a module row or warned about by name as one amiboot has no
// module for. The examples are copied unchanged, apart from a line naming
// their source, from canonical/cloud-init doc/module-docs/cc_*/example*.yaml
// into tests/fixtures/cloud-init-docs/<module>-<n>.yaml.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/config.h"
#include "modules/module.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

/// How many examples cloud-init 04eacd06ee60 documents; the folder holds one
/// fixture for each, so a missing or emptied folder fails here.
constexpr std::size_t kDocumentedExamples = 128;

/// A fixture `amiboot validate` rejects, and the error it must give.
struct Rejection {
  std::string_view fixture;  // file name in the folder
  int line;
  int column;
  std::string_view path;     // the error's key path
  std::string_view message;  // a part of the error's message
  std::string_view why;
};

/// Examples that break cloud-init's own schema (cloudinit/config/schemas/
/// schema-cloud-config-v1.json): amiboot rejects them too, where they break.
/// None at cloud-init 04eacd06ee60: all 128 pass its schema (with its
/// `string` type that also takes `!!binary` bytes).
const std::vector<Rejection> kBrokenExamples = {};

/// Known failures: examples cloud-init accepts (its schema and its module)
/// that amiboot rejects today. Each is a bug to fix; when it is fixed, its
/// entry here fails and is to be removed, so the example is checked with the
/// others.
const std::vector<Rejection> kKnownFailures = {
    {"disk_setup-1.yaml", 16, 9, "fs_setup[0].cmd", "amiboot does not run fs_setup shell commands",
     "cloud-init's schema allows fs_setup[].cmd (a string or a list of strings) and "
     "cc_disk_setup runs it, after %(filesystem)s, %(label)s and %(device)s are filled in"},
    {"write_files-1.yaml", 5, 12, "write_files[0].content", "invalid base64",
     "the content ends in '...' (the example shortens it); cloud-init decodes it with Python's "
     "base64.b64decode, which drops characters outside the alphabet, and writes "
     "'\\n# This file controls the state of SELinux'"},
};

std::string fixture_dir() {
  return testing::source_dir() + "/tests/fixtures/cloud-init-docs";
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(fixture_dir())) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

const Rejection* expected_rejection(const std::string& name) {
  for (const auto* list : {&kBrokenExamples, &kKnownFailures}) {
    for (const auto& r : *list) {
      if (r.fixture == name) {
        return &r;
      }
    }
  }
  return nullptr;
}

struct Validation {
  int exit_code = -1;
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json warnings = nlohmann::json::array();
  std::string output;  // for failure messages
};

/// `amiboot validate --json FILE`, as a user runs it.
Validation validate(const std::string& name) {
  auto r =
      testing::run({testing::amiboot_binary(), "validate", "--json", fixture_dir() + "/" + name});
  Validation v;
  v.exit_code = r.exit_code;
  v.output = r.out + r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  if (json.is_object()) {
    v.errors = json.value("errors", nlohmann::json::array());
    v.warnings = json.value("warnings", nlohmann::json::array());
  }
  return v;
}

bool owned_by_a_module_row(std::string_view key) {
  return std::any_of(module_table().begin(), module_table().end(), [&](const ModuleSpec& m) {
    return std::find(m.keys.begin(), m.keys.end(), key) != m.keys.end();
  });
}

bool warned_as_no_module(const Validation& v, const std::string& key) {
  return std::any_of(v.warnings.begin(), v.warnings.end(), [&](const nlohmann::json& w) {
    return w.value("path", "") == key &&
           w.value("message", "").find("no module") != std::string::npos;
  });
}

TEST(CloudInitDocs, TheFolderHoldsEveryDocumentedExample) {
  ASSERT_TRUE(std::filesystem::is_directory(fixture_dir())) << fixture_dir();
  auto names = fixture_names();
  EXPECT_GE(names.size(), kDocumentedExamples);
  for (const auto* list : {&kBrokenExamples, &kKnownFailures}) {
    for (const auto& r : *list) {
      EXPECT_NE(std::find(names.begin(), names.end(), r.fixture), names.end()) << r.fixture;
    }
  }
}

TEST(CloudInitDocs, EachExampleIsAcceptedAndEachKeyOwnedOrWarnedAsNoModule) {
  auto names = fixture_names();
  std::size_t checked = 0;
  for (const auto& name : names) {
    if (expected_rejection(name) != nullptr) {
      continue;
    }
    SCOPED_TRACE(name);
    ++checked;
    auto v = validate(name);
    EXPECT_EQ(v.exit_code, 0) << v.output;
    EXPECT_TRUE(v.errors.empty()) << v.output;
    // The documented input itself (a `## template: jinja` line is a comment).
    auto doc = parse_yaml(testing::read_file(fixture_dir() + "/" + name), "user-data");
    ASSERT_TRUE(doc) << doc.error().message;
    ASSERT_TRUE(doc->is_map());
    for (const auto& e : doc->entries) {
      EXPECT_TRUE(owned_by_a_module_row(e.key) || warned_as_no_module(v, e.key))
          << e.key << " is neither owned by a module row nor warned about as having no module\n"
          << v.output;
    }
  }
  EXPECT_GE(checked + kBrokenExamples.size() + kKnownFailures.size(), kDocumentedExamples);
}

void expect_rejected(const Rejection& r, std::string_view if_accepted) {
  SCOPED_TRACE(std::string(r.fixture) + ": " + std::string(r.why));
  auto v = validate(std::string(r.fixture));
  EXPECT_EQ(v.exit_code, 1) << if_accepted << "\n" << v.output;
  bool found = std::any_of(v.errors.begin(), v.errors.end(), [&](const nlohmann::json& e) {
    return e.value("line", 0) == r.line && e.value("column", 0) == r.column &&
           e.value("path", "") == r.path &&
           e.value("message", "").find(r.message) != std::string::npos;
  });
  EXPECT_TRUE(found) << "expected an error at " << r.line << ":" << r.column << " " << r.path
                     << ": ..." << r.message << "...\n"
                     << v.output;
}

TEST(CloudInitDocs, BrokenExamplesAreRejectedWhereTheyBreak) {
  for (const auto& r : kBrokenExamples) {
    expect_rejected(r, "a broken example is accepted");
  }
}

// These assert today's wrong behaviour, so the test stays honest: when a fix
// makes one pass, remove it from kKnownFailures.
TEST(CloudInitDocs, KnownFailuresAreStillRejected) {
  for (const auto& r : kKnownFailures) {
    expect_rejected(r, "now accepted: remove it from kKnownFailures");
  }
}

}  // namespace
}  // namespace amiboot
