// ssh_host_keys: the image's host keys removed, new ones generated, and the
// fingerprints between cloud-init's console markers.
#include "modules/ssh_host_keys.h"

#include <gtest/gtest.h>

#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml) : ModuleFixture(yaml) {
    system.programs = {"ssh-keygen"};
    for (const char* name :
         {"ssh_host_rsa_key", "ssh_host_rsa_key.pub", "ssh_host_ed25519_key",
          "ssh_host_ed25519_key.pub", "ssh_host_ed25519_key-cert.pub", "sshd_config", "moduli"}) {
      system.files[std::string("/etc/ssh/") + name] = "x";
    }
  }
};

RunCommand keygen(const std::string& type) {
  RunCommand r{
      {"ssh-keygen", "-q", "-t", type, "-N", "", "-f", "/etc/ssh/ssh_host_" + type + "_key"},
      "ssh-keygen -t " + type};
  r.target_paths = {7};
  return r;
}

RunCommand show(const std::string& program, const std::string& pub, const std::string& label) {
  RunCommand r{program == "cat"
                   ? std::vector<std::string>{"cat", "/etc/ssh/" + pub}
                   : std::vector<std::string>{"ssh-keygen", "-l", "-f", "/etc/ssh/" + pub},
               label + pub};
  r.target_paths = {r.argv.size() - 1};
  r.to_console = true;
  return r;
}

std::vector<Action> console_blocks(const std::vector<std::string>& pubs) {
  std::vector<Action> out = {ConsoleMessage{"-----BEGIN SSH HOST KEY FINGERPRINTS-----"}};
  for (const auto& p : pubs) {
    out.push_back(show("ssh-keygen", p, "fingerprint of "));
  }
  out.push_back(ConsoleMessage{"-----END SSH HOST KEY FINGERPRINTS-----"});
  out.push_back(ConsoleMessage{"-----BEGIN SSH HOST KEY KEYS-----"});
  for (const auto& p : pubs) {
    out.push_back(show("cat", p, "public key "));
  }
  out.push_back(ConsoleMessage{"-----END SSH HOST KEY KEYS-----"});
  return out;
}

TEST(SshHostKeys, ImageKeysAreReplacedAndFingerprintsGoToTheConsole) {
  Fixture f("{}");
  auto plan = f.plan("ssh_host_keys");
  std::vector<Action> expected = {
      RemoveFile{"/etc/ssh/ssh_host_ed25519_key", "ssh_deletekeys: ssh_host_ed25519_key"},
      RemoveFile{"/etc/ssh/ssh_host_ed25519_key-cert.pub",
                 "ssh_deletekeys: ssh_host_ed25519_key-cert.pub"},
      RemoveFile{"/etc/ssh/ssh_host_ed25519_key.pub", "ssh_deletekeys: ssh_host_ed25519_key.pub"},
      RemoveFile{"/etc/ssh/ssh_host_rsa_key", "ssh_deletekeys: ssh_host_rsa_key"},
      RemoveFile{"/etc/ssh/ssh_host_rsa_key.pub", "ssh_deletekeys: ssh_host_rsa_key.pub"},
      keygen("ed25519"),
      keygen("ecdsa"),
      keygen("rsa"),
  };
  auto blocks = console_blocks(
      {"ssh_host_ecdsa_key.pub", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key.pub"});
  expected.insert(expected.end(), blocks.begin(), blocks.end());
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "3 host key(s) generated");
}

TEST(SshHostKeys, KeepingKeysGeneratesOnlyMissingTypes) {
  Fixture f("ssh_deletekeys: false\nssh_genkeytypes: [ed25519, ecdsa]\n");
  auto plan = f.plan("ssh_host_keys");
  std::vector<Action> expected = {keygen("ecdsa")};
  auto blocks = console_blocks(
      {"ssh_host_ecdsa_key.pub", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key.pub"});
  expected.insert(expected.end(), blocks.begin(), blocks.end());
  EXPECT_EQ(plan.actions, expected);
}

TEST(SshHostKeys, NoSshdOrNoKeygenMeansNothingToDo) {
  Fixture no_ssh("{}");
  no_ssh.system.files.clear();
  EXPECT_TRUE(no_ssh.plan("ssh_host_keys").actions.empty());
  Fixture no_keygen("{}");
  no_keygen.system.programs.clear();
  auto plan = no_keygen.plan("ssh_host_keys");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning);
}

TEST(SshHostKeys, BadKeyTypesNameTheKeyAndLine) {
  Fixture f("ssh_genkeytypes:\n  - ed25519\n  - ed448\n");
  Diagnostics d;
  f.check("ssh_host_keys", d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].format(),
            "user-data:3:5: ssh_genkeytypes[1]: expected one of ed25519, ecdsa, rsa, dsa; got "
            "'ed448'");
  EXPECT_TRUE(f.plan("ssh_host_keys").actions.empty());
  Fixture none("ssh_genkeytypes: []\n");
  Diagnostics w;
  none.check("ssh_host_keys", w);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].severity, Diagnostic::Severity::Warning);
}

}  // namespace
}  // namespace amiboot
