// SPDX-License-Identifier: Apache-2.0
// apt: sources: with a key, against the real apt-get in a chroot of a
// Debian minbase root (tests/support/debian-root.sh): a file:// repository
// signed by a key made for the test (tests/support/make-signed-apt-repo.sh),
// configured only through user data. The package installs only because the
// key is configured; with another key apt refuses the repository, and its
// own error is what the module reports. A key given by `keyid` comes from
// a keyserver on loopback (cpp-httplib) and is checked against the id.
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

// An HKP keyserver on 127.0.0.1: /pks/lookup answers `answer` and records
// what was searched for.
class FakeKeyserver {
 public:
  explicit FakeKeyserver(std::string answer) : m_answer(std::move(answer)) {
    m_server.Get("/pks/lookup", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_searches.push_back(req.get_param_value("op") + " " + req.get_param_value("search"));
      res.set_content(m_answer, "application/pgp-keys");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~FakeKeyserver() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::vector<std::string> searches() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_searches;
  }

 private:
  std::string m_answer;
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<std::string> m_searches;
};

class AptSourcesAgent : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      skip("needs root: apt-get runs in a chroot");
    }
    for (const char* tool : {"/usr/bin/dpkg-deb", "/usr/bin/dpkg-scanpackages", "/usr/bin/gpg"}) {
      if (access(tool, X_OK) != 0) {
        skip(std::string(tool) + " is missing (tests/support/install-deps.sh installs it)");
      }
    }
    auto copied = copy_debian_root(root);
    if (!copied.skip.empty()) {
      skip(copied.skip);
      return;
    }
    ASSERT_EQ(copied.error, "");
    auto repo = run({source_dir() + "/tests/support/make-signed-apt-repo.sh", root + "/srv/signed",
                     scratch / "key.asc", "amiboot-test-a=1.0"});
    ASSERT_EQ(repo.exit_code, 0) << repo.err;
    // No other repository: whatever installs comes from the signed one.
    write_file(root + "/etc/apt/sources.list", "");
    write_file(seed / "meta-data", "instance-id: i-0aptsources0000001\n");
  }

  void skip(const std::string& why) {
    std::printf("skipping: %s\n", why.c_str());
    GTEST_SKIP() << why;
  }

  void user_data_with_key(const std::string& key) {
    std::string indented;
    for (const auto& line : split(key)) {
      indented += "        " + line + "\n";
    }
    write_file(seed / "user-data",
               "#cloud-config\n"
               "apt:\n"
               "  sources:\n"
               "    vendor:\n"
               "      source: deb file:/srv/signed ./\n"
               "      key: |\n" +
                   indented + "packages: [amiboot-test-a]\n");
  }

  void user_data_with_keyid(const std::string& keyid, const std::string& keyserver) {
    write_file(seed / "user-data",
               "#cloud-config\n"
               "apt:\n"
               "  sources:\n"
               "    vendor:\n"
               "      source: deb file:/srv/signed ./\n"
               "      keyid: " +
                   keyid + "\n      keyserver: " + keyserver + "\npackages: [amiboot-test-a]\n");
  }

  // The key's fingerprint as gpg reads it, not as amiboot does.
  std::string fingerprint(const std::string& keyfile) {
    TempDir home;  // gpg's own, so the host's keyrings stay out of it
    auto r = run({"gpg", "--show-keys", "--with-colons", keyfile}, {{"GNUPGHOME", home.path()}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::size_t at = r.out.find("\nfpr:");
    if (at == std::string::npos) {
      return "";
    }
    std::size_t end = r.out.find('\n', at + 1);
    std::string line = r.out.substr(at + 1, end - at - 1);  // fpr:::::::::FPR:
    line.pop_back();
    return line.substr(line.rfind(':') + 1);
  }

  static std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < text.size();) {
      std::size_t nl = text.find('\n', i);
      lines.push_back(text.substr(i, nl - i));
      i = nl == std::string::npos ? text.size() : nl + 1;
    }
    return lines;
  }

  CommandResult run_agent() {
    return run({amiboot_binary(), "run", "--root", root, "--seed", seed.path()},
               {{"AMIBOOT_LOG", "stderr"}});
  }

  nlohmann::json module(const std::string& name) {
    auto doc = nlohmann::json::parse(read_file(root + "/run/amiboot/status.json"));
    for (const auto& m : doc["stages"]["final"]["modules"]) {
      if (m["name"] == name) {
        return m;
      }
    }
    return nullptr;
  }

  std::string installed(const std::string& name) {
    auto r = run({"chroot", root, "dpkg-query", "-W", "-f", "${Status} ${Version}", name});
    const std::string ok = "install ok installed ";
    return r.exit_code == 0 && r.out.rfind(ok, 0) == 0 ? r.out.substr(ok.size()) : "";
  }

  TempDir scratch;
  std::string root = scratch / "root";
  TempDir seed;
};

TEST_F(AptSourcesAgent, APackageInstallsFromARepositorySignedByTheConfiguredKey) {
  std::string key = read_file(scratch / "key.asc");
  user_data_with_key(key);
  auto r = run_agent();
  auto apt = module("apt_configure");
  ASSERT_FALSE(apt.is_null()) << r.err;
  EXPECT_EQ(apt["result"], "ok") << apt.dump(2) << r.err;
  // The key in the keyrings folder, the source signed by it (deb822 on
  // bookworm), never in apt's global trust.
  EXPECT_EQ(read_file(root + "/etc/apt/keyrings/vendor.asc"), key);
  EXPECT_EQ(read_file(root + "/etc/apt/sources.list.d/vendor.sources"),
            "Types: deb\nURIs: file:/srv/signed\nSuites: ./\n"
            "Signed-By: /etc/apt/keyrings/vendor.asc\n");
  EXPECT_FALSE(std::filesystem::exists(root + "/etc/apt/trusted.gpg.d/vendor.asc"));
  auto packages = module("packages");
  ASSERT_FALSE(packages.is_null()) << r.err;
  EXPECT_EQ(packages["result"], "ok") << packages.dump(2) << r.err;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0");
}

TEST_F(AptSourcesAgent, AnotherKeyIsRefusedByAptWithItsOwnError) {
  auto other = run({source_dir() + "/tests/support/make-signed-apt-repo.sh", scratch / "other",
                    scratch / "other.asc", "amiboot-test-other=1.0"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  user_data_with_key(read_file(scratch / "other.asc"));
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto apt = module("apt_configure");
  ASSERT_FALSE(apt.is_null()) << r.err;
  EXPECT_EQ(apt["result"], "failed") << apt.dump(2);
  std::string errors = apt["errors"].dump();
  std::printf("apt_configure reported: %s\n", errors.c_str());
  // apt's own words (apt 2.6: gpgv's NO_PUBKEY, then the refusal).
  EXPECT_NE(errors.find("updating the package index failed"), std::string::npos) << errors;
  EXPECT_NE(errors.find("is not signed"), std::string::npos) << errors << r.err;
  EXPECT_NE(r.err.find("NO_PUBKEY"), std::string::npos) << r.err;
  EXPECT_EQ(installed("amiboot-test-a"), "");
}

TEST_F(AptSourcesAgent, AKeyFetchedByItsIdIsCheckedAgainstTheIdThenUsed) {
  std::string key = read_file(scratch / "key.asc");
  std::string fpr = fingerprint(scratch / "key.asc");
  ASSERT_EQ(fpr.size(), 40u);
  FakeKeyserver keyserver(key);
  // The long id (the last 16 digits), as vendors' instructions give it.
  user_data_with_keyid(fpr.substr(24), keyserver.url());
  auto r = run_agent();
  auto apt = module("apt_configure");
  ASSERT_FALSE(apt.is_null()) << r.err;
  EXPECT_EQ(apt["result"], "ok") << apt.dump(2) << r.err;
  EXPECT_EQ(keyserver.searches(), std::vector<std::string>{"get 0x" + fpr.substr(24)});
  EXPECT_EQ(read_file(root + "/etc/apt/keyrings/vendor.asc"), key);
  EXPECT_EQ(installed("amiboot-test-a"), "1.0");
}

TEST_F(AptSourcesAgent, AKeyserverAnsweringWithAnotherKeyIsRefusedAndNothingIsWritten) {
  auto other = run({source_dir() + "/tests/support/make-signed-apt-repo.sh", scratch / "other",
                    scratch / "other.asc", "amiboot-test-other=1.0"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  std::string fpr = fingerprint(scratch / "key.asc");
  std::string other_fpr = fingerprint(scratch / "other.asc");
  ASSERT_EQ(fpr.size(), 40u);
  FakeKeyserver keyserver(read_file(scratch / "other.asc"));
  user_data_with_keyid(fpr, keyserver.url());
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto apt = module("apt_configure");
  ASSERT_FALSE(apt.is_null()) << r.err;
  EXPECT_EQ(apt["result"], "failed") << apt.dump(2);
  std::string errors = apt["errors"].dump();
  std::printf("apt_configure reported: %s\n", errors.c_str());
  EXPECT_NE(errors.find("apt: key " + fpr + " from 127.0.0.1:"), std::string::npos) << errors;
  EXPECT_NE(errors.find("the key returned is not " + fpr + " (it has fingerprint " + other_fpr +
                        "); /etc/apt/keyrings/vendor.asc not written"),
            std::string::npos)
      << errors;
  EXPECT_FALSE(std::filesystem::exists(root + "/etc/apt/keyrings/vendor.asc"));
  EXPECT_EQ(installed("amiboot-test-a"), "");
}

}  // namespace
}  // namespace amiboot::testing
