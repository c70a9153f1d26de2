// SPDX-License-Identifier: Apache-2.0
// Properties of the built binary and of scripted integration checks that
// need a private namespace (run as their own scripts).
#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

TEST(Binary, NeedsOnlyGlibc) {
  auto r = run({"readelf", "-d", amiboot_binary()});
  if (r.exit_code == 127) {
    GTEST_SKIP() << "readelf (binutils) is not installed";
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> needed;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    auto open = line.find("Shared library: [");
    if (open != std::string::npos) {
      needed.push_back(line.substr(open + 17, line.find(']', open) - open - 17));
    }
  }
  // libcurl, libsystemd, libfdisk, libblkid and zlib: dlopen()ed
  // (LazyLibraries.*).
  const std::vector<std::string> allowed = {
      "libc.so.6",  "libm.so.6",       "ld-linux-x86-64.so.2",
      "libdl.so.2", "libpthread.so.0", "ld-linux-aarch64.so.1"};
  ASSERT_FALSE(needed.empty());
  for (const auto& lib : needed) {
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), lib), allowed.end())
        << lib << " is linked dynamically";
  }
  // The C++ runtime and yaml-cpp are linked statically.
  auto ldd = run({"ldd", amiboot_binary()});
  for (const char* lib : {"libstdc++", "libgcc_s", "libyaml-cpp"}) {
    EXPECT_EQ(ldd.out.find(lib), std::string::npos) << ldd.out;
  }
}

// A shell test of tests/integration/ on the binary and the example seed:
// exit 0 passes, 77 skips with the reason it printed.
#define EXPECT_SHELL_TEST_PASSES(script)                                         \
  do {                                                                           \
    auto r = run({source_dir() + "/tests/integration/" script, amiboot_binary(), \
                  source_dir() + "/examples/seed"});                             \
    if (r.exit_code == 77) {                                                     \
      GTEST_SKIP() << r.out;                                                     \
    }                                                                            \
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;                                 \
  } while (false)

TEST(Binary, PrivateJournaldReturnsAModulesEntriesByField) {
  EXPECT_SHELL_TEST_PASSES("journal_test.sh");
}

TEST(Binary, TheInstanceRecordsAndTheLinkAreDurableBeforeTheFirstModuleActs) {
  EXPECT_SHELL_TEST_PASSES("durable_records_test.sh");
}

TEST(Binary, ValidateNamesLineAndColumnAndExitsOneOnErrors) {
  std::string text = "#cloud-config\n";
  for (int i = 2; i <= 9; ++i) {
    text += "# line " + std::to_string(i) + "\n";
  }
  text += "\truncmd: [a]\n";  // a tab on line 10
  TempDir dir;
  write_file(dir / "ud", text);
  auto r = run({amiboot_binary(), "validate", dir / "ud"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("user-data:10:", 0), 0u) << r.err;
  r = run({amiboot_binary(), "validate", "--json", "-"}, {}, "#cloud-config\npackages: 5\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("\"path\": \"packages\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"line\": 2"), std::string::npos) << r.out;
  r = run({amiboot_binary(), "validate", "-"}, {}, "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "valid: nothing to do\n");
  r = run({amiboot_binary(), "validate", source_dir() + "/examples/user-data"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "valid: 2 part(s)\n");
}

}  // namespace
}  // namespace amiboot::testing
