// SPDX-License-Identifier: Apache-2.0
// Hostile user data against the real binary: bombs that are tiny on the wire
// and huge once decoded, parts that must not run half of the user data, and
// includes that never answer. Each is refused with an error naming the limit
// (agent/core/limits.h) while the baseline (the default user with the IMDS
// key) still lands in a sandbox root through the real useradd.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/core/codecs.h"
#include "tests/support/fake_imds.h"
#include "tests/support/os_root.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

constexpr long kMaxRssKb = 64 * 1024;

// "Billion laughs": 492 bytes that expand to 10^9 nodes.
std::string alias_bomb() {
  std::string text =
      "#cloud-config\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
      "\"lol\",\"lol\"]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string name(1, c);
    text += name + ": &" + name + " [";
    for (int k = 0; k < 9; ++k) {
      text += (k ? ",*" : "*") + prev;
    }
    text += "]\n";
    prev = name;
  }
  return text;
}

std::string gzip(const std::string& data) {
  z_stream s{};
  deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, data.size()), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// Eight write_files entries of 16 MiB of zeros each, gz+b64: 128 MiB decoded
// (the third passes the 32 MiB default)
// from some 200 KB of user data.
std::string write_files_bomb() {
  std::string b64 = base64_encode(gzip(std::string(16 << 20, '\0')));
  std::string text = "#cloud-config\nwrite_files:\n";
  for (int k = 0; k < 8; ++k) {
    text += "  - path: /var/tmp/bomb" + std::to_string(k) +
            "\n    encoding: gz+b64\n    content: " + b64 + "\n";
  }
  return text;
}

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = user_tools_missing();
    if (!missing.empty()) {
      std::printf("skipping: %s\n", missing.c_str());
      GTEST_SKIP() << missing;
    }
    make_debian_root(root.path());
  }

  CommandResult run_agent() {
    return run({amiboot_binary(), "run", "--root", root.path(), "--imds", imds.url()},
               {{"AMIBOOT_LOG", "stderr"}});
  }
  CommandResult validate(const std::string& user_data) {
    TempDir dir;
    write_file(dir / "user-data", user_data);
    return run({amiboot_binary(), "validate", "--json", dir / "user-data"});
  }
  bool has_user(const std::string& name) {
    return read_file(root / "etc/passwd").find("\n" + name + ":") != std::string::npos;
  }
  void expect_baseline(const CommandResult& r) {
    EXPECT_TRUE(has_user("admin")) << r.err;
    EXPECT_NE(read_file(root / "home/admin/.ssh/authorized_keys").find("ssh-ed25519"),
              std::string::npos);
  }
  nlohmann::json status() {
    return nlohmann::json::parse(read_file(root / "run/amiboot/status.json"));
  }

  FakeImds imds;
  TempDir root;
};

TEST_F(HostileInput, AliasBombIsRefusedInLittleTimeAndMemoryNamingTheLimit) {
  std::string bomb = alias_bomb();
  ASSERT_LT(bomb.size(), 600u);
  auto v = validate(bomb);
  EXPECT_EQ(v.exit_code, 1) << v.err;
  EXPECT_NE(v.out.find("amiboot.limits.yaml_nodes"), std::string::npos) << v.out;
  EXPECT_LT(v.max_rss_kb, kMaxRssKb);
  EXPECT_LT(v.cpu_seconds, 1.0);

  imds.set_user_data(bomb);
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("amiboot.limits.yaml_nodes"), std::string::npos) << r.err;
  EXPECT_LT(r.max_rss_kb, kMaxRssKb);
  expect_baseline(r);
}

TEST_F(HostileInput, GzipBase64WriteFilesBombIsRefusedInLittleMemory) {
  std::string bomb = write_files_bomb();
  auto v = validate(bomb);
  EXPECT_EQ(v.exit_code, 1) << v.err;
  EXPECT_NE(v.out.find("amiboot.limits.write_files_bytes"), std::string::npos) << v.out;
  EXPECT_LT(v.max_rss_kb, kMaxRssKb);
  EXPECT_LT(v.cpu_seconds, 1.0);

  imds.set_user_data(bomb);
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("write_files[2].content"), std::string::npos) << r.err;  // 16 + 16 + 16 MiB
  EXPECT_LT(r.max_rss_kb, kMaxRssKb);
  EXPECT_FALSE(fs::exists(root / "var/tmp/bomb0"));
  expect_baseline(r);
}

TEST_F(HostileInput, ALimitIsSetInTheImageConfig) {
  write_file(root / "etc/amiboot/amiboot.yaml", "amiboot:\n  limits:\n    mime_parts: 2\n");
  imds.set_user_data(
      "Content-Type: multipart/mixed; boundary=BB\n\n--BB\nContent-Type: "
      "text/x-shellscript\n\n#!/bin/sh\ntouch \"$AMIBOOT_ROOT/ran\"\n--BB\n\n#cloud-config\n--BB\n"
      "\n#cloud-config\n--BB--\n");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("more than 2 MIME parts (amiboot.limits.mime_parts)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(root / "ran"));
  expect_baseline(r);
}

// validate reads the image config as run does, under --root too: a limit
// the image raises (amiboot.yaml.d/) lets through what the default refuses,
// one it lowers (amiboot.yaml) refuses what the default lets through.
TEST_F(HostileInput, ValidateTakesTheLimitsOfTheImageConfigUnderRoot) {
  std::string parts = "Content-Type: multipart/mixed; boundary=BB\n\n";
  for (int k = 0; k < 1200; ++k) {
    parts += "--BB\nContent-Type: text/cloud-config\n\n#cloud-config\n";
  }
  parts += "--BB--\n";
  TempDir dir;
  write_file(dir / "user-data", parts);
  auto check = [&](bool with_root) {
    std::vector<std::string> argv = {amiboot_binary(), "validate", "--json", dir / "user-data"};
    if (with_root) {
      argv.insert(argv.end(), {"--root", root.path()});
    }
    return run(argv);
  };
  auto by_default = check(false);
  EXPECT_EQ(by_default.exit_code, 1) << by_default.out;
  EXPECT_NE(by_default.out.find("more than 1000 MIME parts (amiboot.limits.mime_parts)"),
            std::string::npos)
      << by_default.out;

  write_file(root / "etc/amiboot/amiboot.yaml.d/50-limits.yaml",
             "amiboot:\n  limits:\n    mime_parts: 2000\n");
  auto raised = check(true);
  EXPECT_EQ(raised.exit_code, 0) << raised.out;
  EXPECT_EQ(nlohmann::json::parse(raised.out)["parts"], 1200) << raised.out;

  write_file(root / "etc/amiboot/amiboot.yaml", "amiboot:\n  limits:\n    mime_parts: 2\n");
  fs::remove(root / "etc/amiboot/amiboot.yaml.d/50-limits.yaml");
  write_file(dir / "user-data",
             "Content-Type: multipart/mixed; boundary=BB\n\n--BB\n\n#cloud-config\n--BB\n\n"
             "#cloud-config\n--BB\n\n#cloud-config\n--BB--\n");
  EXPECT_EQ(check(false).exit_code, 0) << check(false).out;
  auto lowered = check(true);
  EXPECT_EQ(lowered.exit_code, 1) << lowered.out;
  EXPECT_NE(lowered.out.find("more than 2 MIME parts (amiboot.limits.mime_parts)"),
            std::string::npos)
      << lowered.out;

  // A broken image config is the image's problem: a warning, the user data
  // still valid.
  write_file(root / "etc/amiboot/amiboot.yaml", "amiboot: [\n");
  auto broken = check(true);
  EXPECT_EQ(broken.exit_code, 0) << broken.out;
  EXPECT_NE(broken.out.find("image config: "), std::string::npos) << broken.out;
}

// A broken cloud-config part stops the script part too: it would run on a
// machine without the user it was to find.
TEST_F(HostileInput, ARejectedPartStopsEveryPartScriptsIncludedNamingIt) {
  imds.set_user_data(
      "Content-Type: multipart/mixed; boundary=BB\n\n"
      "--BB\nContent-Type: text/cloud-config\nContent-Disposition: attachment; "
      "filename=users.yaml\n\n#cloud-config\nusers:\n  - default\n  - name: carol\n    groups: 5\n"
      "--BB\nContent-Type: text/cloud-config\n\n#cloud-config\nruncmd: [[touch, /ran-runcmd]]\n"
      "--BB\nContent-Type: text/x-shellscript\n\n#!/bin/sh\ntouch \"$AMIBOOT_ROOT/ran-script\"\n"
      "--BB--\n");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("user-data part 1 (users.yaml) was rejected"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing from it is applied, scripts included"), std::string::npos);
  EXPECT_FALSE(fs::exists(root / "ran-script"));
  EXPECT_FALSE(fs::exists(root / "ran-runcmd"));
  EXPECT_FALSE(has_user("carol"));
  expect_baseline(r);
}

// A socket that accepts connections and never answers.
class BlackHole {
 public:
  BlackHole() {
    m_fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(m_fd, 128);
    socklen_t len = sizeof addr;
    getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
  }
  ~BlackHole() { close(m_fd); }
  std::string url(int k) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + "/x" + std::to_string(k);
  }

 private:
  int m_fd = -1;
  int m_port = 0;
};

TEST_F(HostileInput, FortyIncludesThatNeverAnswerShareOneDeadlineAndTheStatusSaysErrors) {
  write_file(root / "etc/amiboot/amiboot.yaml",
             "amiboot:\n  limits:\n    includes: 40\n    include_seconds: 2\n");
  BlackHole hole;
  std::string text = "#include\n";
  for (int k = 0; k < 40; ++k) {
    text += hole.url(k) + "\n";
  }
  imds.set_user_data(text);
  auto start = std::chrono::steady_clock::now();
  auto r = run_agent();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 1);
  // 2 s of includes and the rest of a run; one URL alone used to hold 30 s.
  EXPECT_LT(took, std::chrono::seconds(20)) << r.err;
  EXPECT_NE(r.err.find("the deadline for all includes (2 s, amiboot.limits.include_seconds)"),
            std::string::npos)
      << r.err;
  auto doc = status();
  EXPECT_EQ(doc["status"], "error") << doc.dump(2);  // not "done"
  expect_baseline(r);
}

// Bytes that are not UTF-8 where JSON is written: validate --json, status,
// instance data and the stored configs must all come out, never a dead agent.
TEST_F(HostileInput, InvalidUtf8InUserDataAndMetadataNeverKillsTheAgent) {
  std::string user_data =
      "#cloud-config\nwrite_files:\n  - path: /var/tmp/a\xff\n    owner: \"\xff\"\n"
      "    content: \"caf\xe9 \xff\"\n  - path: /var/tmp/b\n    content: ok\n";
  auto v = validate(user_data);
  EXPECT_TRUE(v.exit_code == 0 || v.exit_code == 1) << v.err;
  EXPECT_EQ(v.err.find("fatal"), std::string::npos) << v.err;
  EXPECT_FALSE(nlohmann::json::parse(v.out, nullptr, false).is_discarded()) << v.out;

  imds.set("meta-data/local-hostname", "ip-10-0-0-1\xff.ec2.internal");
  imds.set_user_data(user_data);
  auto r = run_agent();
  EXPECT_EQ(r.err.find("fatal"), std::string::npos) << r.err;
  auto doc = status();
  EXPECT_TRUE(doc["stages"].contains("final")) << doc.dump(2);
  EXPECT_NE(doc["status"], "running");
  EXPECT_FALSE(
      nlohmann::json::parse(read_file(root / "run/amiboot/instance-data.json"), nullptr, false)
          .is_discarded());
  expect_baseline(r);
}

}  // namespace
}  // namespace amiboot::testing
