// SPDX-License-Identifier: Apache-2.0
// libcurl, libsystemd, libfdisk, libblkid and zlib are loaded when first
// needed (agent/libcurl.cc and its siblings), named in the binary's
// .note.dlopen for packagers.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

bool has_readelf() {
  return run({"readelf", "--version"}).exit_code == 0;
}

const std::vector<std::string> k_lazy = {"libcurl", "libsystemd", "libfdisk", "libblkid",
                                         "libz.so"};

// gzip(1)'s output for `text`, made by the gzip program (amiboot's tests
// link zlib, but the binary under test must load it itself).
std::string gzipped(const std::string& text) {
  auto r = run({"gzip", "-c"}, {}, text);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST(LazyLibraries, NoLazyLibraryIsNeeded) {
  if (!has_readelf()) {
    GTEST_SKIP() << "readelf (binutils) is not installed";
  }
  auto r = run({"readelf", "-d", amiboot_binary()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(NEEDED)"), std::string::npos) << r.out;
  for (const auto& lib : k_lazy) {
    EXPECT_EQ(r.out.find(lib), std::string::npos) << lib << ":\n" << r.out;
  }
}

TEST(LazyLibraries, TheDlopenNoteNamesEachLibrary) {
  if (!has_readelf()) {
    GTEST_SKIP() << "readelf (binutils) is not installed";
  }
  // readelf -n shows the notes (binutils before 2.43 does not decode this
  // type: "Unknown note type: (0x407c0c0a)", owner FDO); -p shows the JSON.
  auto notes = run({"readelf", "-n", amiboot_binary()});
  // Its exit status is 1 for the unknown note type on binutils 2.40: not checked.
  EXPECT_EQ(notes.err.find("Corrupt note"), std::string::npos) << notes.err;
  std::istringstream in(notes.out);
  int dlopen_notes = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("FDO") != std::string::npos &&
        (line.find("0x407c0c0a") != std::string::npos ||
         line.find("FDO_DLOPEN_METADATA") != std::string::npos)) {
      ++dlopen_notes;
    }
  }
  EXPECT_EQ(dlopen_notes, 5) << notes.out;
  auto json = run({"readelf", "-p", ".note.dlopen", amiboot_binary()});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find(R"("soname":["libcurl.so.4"])"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find(R"("soname":["libsystemd.so.0"])"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find(R"("soname":["libfdisk.so.1"])"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find(R"("soname":["libblkid.so.1"])"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find(R"("soname":["libz.so.1"])"), std::string::npos) << json.out;
}

// zlib is loaded when gzip user data is met, and then it inflates it.
TEST(LazyLibraries, GzipUserDataLoadsZlib) {
  TempDir dir;
  write_file(dir / "ud.gz", gzipped("#cloud-config\nruncmd: [echo hi]\npackages: [a, b]\n"));
  auto r = run({amiboot_binary(), "validate", dir / "ud.gz"}, {{"LD_DEBUG", "files"}});
  ASSERT_NE(r.err.find("file=libc.so.6"), std::string::npos) << "no LD_DEBUG trace: " << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "valid: 1 part(s)\n");
  EXPECT_NE(r.err.find("file=libz.so.1"), std::string::npos) << r.err;
}

// The dynamic loader's own trace (LD_DEBUG=files) lists every object it
// loads, dlopen()ed ones included.
TEST(LazyLibraries, ValidateStatusQueryAndVersionLoadNone) {
  TempDir dir;
  write_file(dir / "ud", "#cloud-config\nruncmd: [echo hi]\n");
  const std::vector<std::vector<std::string>> commands = {
      {"validate", dir / "ud"},
      {"status", "--root", dir.path()},
      {"query", "--root", dir.path()},
      {"version"},
  };
  for (const auto& args : commands) {
    std::vector<std::string> argv = {amiboot_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    // A journal to write to would be a reason to load libsystemd: say there is one.
    auto r = run(argv, {{"LD_DEBUG", "files"}, {"AMIBOOT_LOG", "journal"}});
    ASSERT_NE(r.err.find("file=libc.so.6"), std::string::npos) << "no LD_DEBUG trace: " << r.err;
    for (const auto& lib : k_lazy) {
      EXPECT_EQ(r.err.find(lib), std::string::npos) << args[0] << " loads " << lib << ":\n"
                                                    << r.err;
    }
  }
}

// The five libraries made unloadable in a private mount namespace
// (/dev/null bound over the files the loader's cache points at; libblkid
// last, since mount itself needs it). A program that links libcurl no longer
// starts there, so the hiding is real; amiboot's validate still works, and a
// run that needs libcurl (an #include URL; IMDS is read without it,
// agent/http_connections.h) and validate of gzip user data fail with an
// error naming the library.
TEST(LazyLibraries, ValidateRunsWithTheLazyLibrariesAbsent) {
  if (run({"unshare", "--mount", "true"}).exit_code != 0) {
    GTEST_SKIP() << "unshare --mount is not allowed here (needs root)";
  }
  TempDir dir;
  write_file(dir / "ud", "#cloud-config\nruncmd: [echo hi]\n");
  write_file(dir / "seed/meta-data", "instance-id: i-lazy\n");
  write_file(dir / "seed/user-data", "#include\nhttp://127.0.0.1:9/part\n");
  write_file(dir / "ud.gz", gzipped("#cloud-config\nruncmd: [echo hi]\n"));
  // clang-format off
  const std::string script = R"sh(
set -e
for lib in libz.so.1 libcurl.so.4 libsystemd.so.0 libfdisk.so.1 libblkid.so.1; do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|aarch64|64bit/ {print $NF; exit}')
  [ -n "$path" ] || { echo "no $lib in the loader cache"; exit 77; }
  mount --bind /dev/null "$(readlink -f "$path")"
done
if command -v curl >/dev/null && curl --version >/dev/null 2>&1; then
  echo "curl still starts: the libraries are not hidden"; exit 3
fi
echo "== validate"
"$1" validate "$2"
echo "== validate gzip"
"$1" validate "$2.gz" && exit 5
echo "== run"
AMIBOOT_LOG=journal "$1" run --root "$3/root" --seed "$3/seed" && exit 4
exit 0
)sh";
  // clang-format on
  auto r = run({"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                amiboot_binary(), dir / "ud", dir.path()});
  if (r.exit_code == 77) {
    GTEST_SKIP() << r.out;
  }
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("== validate\nvalid: 1 part(s)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("libcurl.so.4 could not be loaded"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("install libcurl4"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("libsystemd.so.0 could not be loaded"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("libz.so.1 could not be loaded"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("needed for gzip data: install zlib1g"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace amiboot::testing
