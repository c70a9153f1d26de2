// SPDX-License-Identifier: Apache-2.0
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

/// Deliberate differences: examples cloud-init accepts that amiboot refuses,
/// because doing it would open a hole (amiboot follows cloud-init unless that
/// would lose data or open a hole); the error says why amiboot differs.
const std::vector<Rejection> kDeliberateDifferences = {
    {"ca_certs-1.yaml", 6, 5, "ca_certs.trusted[0]", "expected -----BEGIN CERTIFICATE-----",
     "its certificates are placeholders (single_line_cert, YOUR-ORGS-TRUSTED-CA-CERT-HERE): "
     "cloud-init writes them into the trust store unchecked; amiboot parses each PEM before it "
     "writes anything, so a broken one cannot leave a half-updated store"},
    {"apt_configure-1.yaml", 49, 18, "apt.sources.source1.keyid",
     "expected a key id or fingerprint",
     "its keys are placeholders (keyid: keyid, <key data>): cloud-init hands them to gpg when "
     "the module runs and logs the failure; amiboot checks each key id and OpenPGP key when the "
     "config is decoded, so a broken key cannot leave a source without its key"},
    {"disk_setup-1.yaml", 16, 9, "fs_setup[0].cmd",
     "cloud-init runs it through a shell with the device and label filled in",
     "fs_setup[].cmd is a shell string that cloud-init completes with %(device)s and %(label)s "
     "from the block device mapping and runs with shell=True; amiboot runs argvs only"},
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
  for (const auto* list : {&kBrokenExamples, &kDeliberateDifferences}) {
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
  for (const auto* list : {&kBrokenExamples, &kDeliberateDifferences}) {
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
  EXPECT_GE(checked + kBrokenExamples.size() + kDeliberateDifferences.size(), kDocumentedExamples);
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

TEST(CloudInitDocs, DeliberateDifferencesAreRefusedSayingWhy) {
  for (const auto& r : kDeliberateDifferences) {
    expect_rejected(r, "a refused example is accepted");
  }
}

TEST(CloudInitDocs, ContentCutShortWithDotsDecodesAsInCloudInit) {
  // write_files-1 ends its base64 in "...": Python's b64decode drops what is
  // not base64, and so does amiboot, with a warning.
  auto v = validate("write_files-1.yaml");
  ASSERT_EQ(v.exit_code, 0) << v.output;
  bool warned = std::any_of(v.warnings.begin(), v.warnings.end(), [](const nlohmann::json& w) {
    return w.value("path", "") == "write_files[0].content" &&
           w.value("message", "").find("3 characters outside base64's alphabet skipped") !=
               std::string::npos;
  });
  EXPECT_TRUE(warned) << v.output;
}

}  // namespace
}  // namespace amiboot
