// SPDX-License-Identifier: Apache-2.0
// ca_certs with the real update-ca-certificates: the amiboot binary with
// --root on a copy of a debootstrap minbase root (tests/support/
// debian-root.sh) into which the ca-certificates package (with openssl and
// libssl3) is installed first. The .debs come from the host's apt cache or
// the host's apt mirror (`apt-get download`), kept next to the root's cache;
// without them the tests are skipped and say why.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

const char* const kPackages[] = {"libssl3", "openssl", "ca-certificates"};

std::string cache_dir() {
  const char* env = getenv("AMIBOOT_TEST_CACHE");
  return std::string(env != nullptr && *env != '\0' ? env : "/var/cache/amiboot-test") + "/debs";
}

// `package`'s .deb in `dir`, or "".
std::string deb_in(const std::string& dir, const std::string& package) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename();
    if (name.rfind(package + "_", 0) == 0 && name.size() > 4 &&
        name.compare(name.size() - 4, 4, ".deb") == 0) {
      return entry.path();
    }
  }
  return "";
}

// Copies into the shared cache under a temporary name, then renames, so a
// test running at the same time never sees half a file.
std::string keep_in_cache(const std::string& file) {
  std::string final_path = cache_dir() + "/" + fs::path(file).filename().string();
  std::string tmp = final_path + ".tmp-" + std::to_string(getpid());
  fs::copy_file(file, tmp, fs::copy_options::overwrite_existing);
  fs::rename(tmp, final_path);
  return final_path;
}

// The .deb of `package`: cached, in the host's apt cache, or downloaded from
// the host's mirror. "" and `why` when none can be had.
std::string find_deb(const std::string& package, std::string& why) {
  fs::create_directories(cache_dir());
  if (auto cached = deb_in(cache_dir(), package); !cached.empty()) {
    return cached;
  }
  if (auto archived = deb_in("/var/cache/apt/archives", package); !archived.empty()) {
    return keep_in_cache(archived);
  }
  TempDir download;
  auto r = run({"env", "-C", download.path(), "apt-get", "download", "--quiet", package});
  std::string got = deb_in(download.path(), package);
  if (r.exit_code != 0 || got.empty()) {
    why = "cannot get the " + package + " .deb from the host's apt mirror (apt-get download: " +
          r.err.substr(0, r.err.find('\n')) + ")";
    return "";
  }
  return keep_in_cache(got);
}

class CaCertsAgent : public ::testing::Test {
 protected:
  // One root with ca-certificates installed for the suite; each test copies it.
  static void SetUpTestSuite() {
    s_skip.clear();
    if (geteuid() != 0) {
      s_skip = "needs root: dpkg and update-ca-certificates run in a chroot";
      return;
    }
    auto base = run({source_dir() + "/tests/support/debian-root.sh"});
    if (base.exit_code != 0) {
      s_skip = base.exit_code == 77 ? base.err : "debian-root.sh failed: " + base.err;
      return;
    }
    s_pristine = base.out.substr(0, base.out.find('\n'));
    std::vector<std::string> debs;
    for (const char* package : kPackages) {
      std::string why;
      std::string deb = find_deb(package, why);
      if (deb.empty()) {
        s_skip = why;
        return;
      }
      debs.push_back(deb);
    }
    s_scratch = std::make_unique<TempDir>();
    s_prepared = *s_scratch / "prepared";
    auto copy = run({"cp", "-a", "--reflink=auto", s_pristine, s_prepared});
    if (copy.exit_code != 0) {
      s_skip = "cannot copy the root: " + copy.err;
      return;
    }
    std::vector<std::string> install = {"chroot", s_prepared, "dpkg", "-i"};
    fs::create_directories(s_prepared + "/tmp/debs");
    for (const auto& deb : debs) {
      std::string inside = "/tmp/debs/" + fs::path(deb).filename().string();
      fs::copy_file(deb, s_prepared + inside);
      install.push_back(inside);
    }
    auto r = run(install, {{"DEBIAN_FRONTEND", "noninteractive"}});
    fs::remove_all(s_prepared + "/tmp/debs");
    if (r.exit_code != 0) {
      s_install_error = "dpkg -i ca-certificates in the root failed: " + r.out + r.err;
    }
  }

  static void TearDownTestSuite() { s_scratch.reset(); }

  void SetUp() override {
    if (!s_skip.empty()) {
      std::printf("skipping: %s\n", s_skip.c_str());
      GTEST_SKIP() << s_skip;
    }
    ASSERT_TRUE(s_install_error.empty()) << s_install_error;
    write_file(seed / "meta-data", "instance-id: i-0cacerts000000001\n");
  }

  void use_root(const std::string& source) {
    auto copy = run({"cp", "-a", "--reflink=auto", source, root});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
  }

  void user_data(const std::string& cloud_config) {
    write_file(seed / "user-data", "#cloud-config\n" + cloud_config);
  }

  CommandResult run_stage(const char* stage) {
    return run({amiboot_binary(), "run", "--stage", stage, "--root", root, "--seed", seed.path()},
               {{"AMIBOOT_LOG", "stderr"}});
  }

  // Both stages, as the two units run them; the final stage's result (the
  // init stage must succeed: ca_certs is not in it).
  CommandResult run_agent() {
    auto init = run_stage("init");
    EXPECT_EQ(init.exit_code, 0) << init.err;
    return run_stage("final");
  }

  // ca_certs' entry in status.json: a final-stage module, so that sshd does
  // not wait for update-ca-certificates.
  nlohmann::json module(const std::string& name) {
    auto doc = nlohmann::json::parse(read_file(root + "/run/amiboot/status.json"));
    for (const auto& m : doc["stages"]["init"]["modules"]) {
      EXPECT_NE(m["name"], name) << name << " ran in the init stage";
    }
    for (const auto& m : doc["stages"]["final"]["modules"]) {
      if (m["name"] == name) {
        return m;
      }
    }
    return nullptr;
  }

  static std::string pem() { return read_file(source_dir() + "/tests/fixtures/test-ca.pem"); }

  static std::string trusted_item() {
    std::string out = "    - |\n";
    std::string text = pem();
    for (std::size_t start = 0; start < text.size();) {
      std::size_t end = text.find('\n', start);
      out += "      " + text.substr(start, end - start) + "\n";
      start = end + 1;
    }
    return out;
  }

  static std::size_t certificates_in(const std::string& bundle) {
    std::size_t n = 0;
    for (std::size_t at = bundle.find("-----BEGIN CERTIFICATE-----"); at != std::string::npos;
         at = bundle.find("-----BEGIN CERTIFICATE-----", at + 1)) {
      ++n;
    }
    return n;
  }

  static inline std::string s_skip;
  static inline std::string s_install_error;
  static inline std::string s_pristine;
  static inline std::string s_prepared;
  static inline std::unique_ptr<TempDir> s_scratch;

  TempDir scratch;
  std::string root = scratch / "root";
  TempDir seed;
};

TEST_F(CaCertsAgent, TheBundleUpdateCarriesTheTrustedCertificate) {
  use_root(s_prepared);
  std::size_t defaults = certificates_in(read_file(root + "/etc/ssl/certs/ca-certificates.crt"));
  ASSERT_GT(defaults, 100u) << "the package's own bundle";
  user_data("ca_certs:\n  trusted:\n" + trusted_item());
  auto r = run_agent();
  auto m = module("ca_certs");
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "ok") << m.dump(2) << r.err;
  EXPECT_EQ(read_file(root + "/usr/local/share/ca-certificates/cloud-init-ca-cert-1.crt"), pem());
  std::string bundle = read_file(root + "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_NE(bundle.find(pem()), std::string::npos);
  EXPECT_EQ(certificates_in(bundle), defaults + 1);
  // The root's own tool made the link: it points inside the image, not at
  // the sandbox's path on the host.
  EXPECT_EQ(fs::read_symlink(root + "/etc/ssl/certs/cloud-init-ca-cert-1.pem").string(),
            "/usr/local/share/ca-certificates/cloud-init-ca-cert-1.crt");
  EXPECT_NE(r.err.find("1 added, 0 removed"), std::string::npos) << r.err;
}

TEST_F(CaCertsAgent, RemoveDefaultsLeavesOnlyTheTrustedCertificate) {
  use_root(s_prepared);
  user_data("ca_certs:\n  remove_defaults: true\n  trusted:\n" + trusted_item());
  auto r = run_agent();
  auto m = module("ca_certs");
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "ok") << m.dump(2) << r.err;
  std::string bundle = read_file(root + "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(certificates_in(bundle), 1u);
  EXPECT_NE(bundle.find(pem()), std::string::npos);
  std::string conf = read_file(root + "/etc/ca-certificates.conf");
  EXPECT_NE(conf.find("# Modified by cloud-init to deselect certs due to user-data\n!mozilla/"),
            std::string::npos);
  auto selections = run({"chroot", root, "debconf-show", "ca-certificates"});
  EXPECT_NE(selections.out.find("ca-certificates/trust_new_crts: no"), std::string::npos)
      << selections.out << selections.err;
}

TEST_F(CaCertsAgent, WithoutTheToolNothingIsWrittenAndTheOtherModulesRun) {
  use_root(s_pristine);  // minbase: no ca-certificates
  // write_files_deferred runs after ca_certs in the final stage.
  user_data("ca_certs:\n  trusted:\n" + trusted_item() +
            "write_files:\n  - {path: /etc/after-ca-certs, content: \"ok\\n\", defer: true}\n");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto m = module("ca_certs");
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "failed");
  ASSERT_EQ(m["errors"].size(), 1u) << m.dump(2);
  EXPECT_EQ(m["errors"][0],
            "ca_certs: update-ca-certificates is not on this image (the ca-certificates package "
            "has it); "
            "nothing was written");
  EXPECT_FALSE(exists(root + "/usr/local/share/ca-certificates/cloud-init-ca-cert-1.crt"));
  EXPECT_EQ(read_file(root + "/etc/after-ca-certs"), "ok\n");
}

}  // namespace
}  // namespace amiboot::testing
