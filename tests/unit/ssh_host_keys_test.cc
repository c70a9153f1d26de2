// SPDX-License-Identifier: Apache-2.0
// ssh_host_keys: the image's host keys removed, new ones generated or the
// ones given in ssh_keys installed, and the fingerprints and keys between
// cloud-init's console markers, minus the blacklisted types.
#include "modules/ssh_host_keys.h"

#include <algorithm>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/cloud_config.h"
#include "agent/core/codecs.h"
#include "agent/executor.h"
#include "modules/lanes.h"
#include "modules/sshd_config.h"
#include "tests/support/fake_system.h"
#include "tests/support/module_fixture.h"
#include "tests/support/test_util.h"

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

RunCommand keygen(const std::string& type, bool quiet = false) {
  RunCommand r{{"ssh-keygen"}, "ssh-keygen -t " + type};
  if (quiet) {
    r.argv.push_back("-q");
  }
  r.argv.insert(r.argv.end(), {"-t", type, "-N", "", "-f"});
  r.to_console = !quiet;
  r.target_path("/etc/ssh/ssh_host_" + type + "_key");
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

std::vector<Action> console_blocks(const std::vector<std::string>& fingerprints,
                                   const std::vector<std::string>& keys) {
  std::vector<Action> out;
  if (!fingerprints.empty()) {
    out.push_back(ConsoleMessage{"-----BEGIN SSH HOST KEY FINGERPRINTS-----"});
    for (const auto& p : fingerprints) {
      out.push_back(show("ssh-keygen", p, "fingerprint of "));
    }
    out.push_back(ConsoleMessage{"-----END SSH HOST KEY FINGERPRINTS-----"});
  }
  if (!keys.empty()) {
    out.push_back(ConsoleMessage{"-----BEGIN SSH HOST KEY KEYS-----"});
    for (const auto& p : keys) {
      out.push_back(show("cat", p, "public key "));
    }
    out.push_back(ConsoleMessage{"-----END SSH HOST KEY KEYS-----"});
  }
  return out;
}

std::vector<Action> console_blocks(const std::vector<std::string>& pubs) {
  return console_blocks(pubs, pubs);
}

std::string dump(const std::vector<Action>& actions) {
  std::string out;
  for (const auto& a : actions) {
    out += "  " + describe(a) + "\n";
  }
  return out;
}

RunCommand reload(const std::string& unit) {
  RunCommand r{{"systemctl", "try-reload-or-restart", unit}, "sshd: reload for the new host keys"};
  r.needs_host = true;
  return r;
}

/// What the init stage's actions leave in the fake /etc/ssh: removed files
/// gone, a generated key and its .pub there (as "TYPE new" for ssh-keygen -t).
void apply_to(const std::vector<Action>& actions, testing::FakeSystemView& system) {
  for (const auto& a : actions) {
    if (const auto* r = std::get_if<RemoveFile>(&a)) {
      system.files.erase(r->path);
    } else if (const auto* w = std::get_if<WriteFile>(&a)) {
      system.files[w->path] = w->content;
    } else if (const auto* c = std::get_if<RunCommand>(&a);
               c != nullptr && c->argv.size() > 4 && c->argv[0] == "ssh-keygen" &&
               std::find(c->argv.begin(), c->argv.end(), "-t") != c->argv.end()) {
      system.files[c->argv.back()] = "private";
      system.files[c->argv.back() + ".pub"] = "ssh-" + c->argv.back() + " new\n";
    }
  }
}

// --- fake keys: the shapes of real ones, no key material -------------------

std::string wire(const std::string& s) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>((s.size() >> (24 - 8 * i)) & 0xff);
  }
  return out + s;
}

/// An OpenSSH private key file whose public part is `type` and a made-up
/// 32-byte point; the private part is filler.
std::string fake_private(const std::string& type, const std::string& cipher = "none") {
  std::string blob = wire(type) + wire(std::string(32, 'P'));
  std::string der = std::string("openssh-key-v1\0", 15) + wire(cipher) + wire("none") + wire("") +
                    std::string("\0\0\0\1", 4) + wire(blob) + wire(std::string(64, 'F'));
  std::string b64 = base64_encode(der);
  std::string body;
  for (std::size_t i = 0; i < b64.size(); i += 70) {
    body += b64.substr(i, 70) + "\n";
  }
  return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + body + "-----END OPENSSH PRIVATE KEY-----\n";
}

std::string fake_public(const std::string& type) {
  return type + " " + base64_encode(wire(type) + wire(std::string(32, 'P'))) + " fake@test";
}

/// YAML for a block scalar of `text`, indented under a key at `indent`.
std::string block(const std::string& text, int indent) {
  std::string out = "|\n";
  std::string pad(static_cast<std::size_t>(indent), ' ');
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    out += pad + text.substr(start, nl - start) + "\n";
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

// --- generated keys (the existing behaviour) --------------------------------

TEST(SshHostKeys, TheInitStageMakesOnlyTheLoginKeyAndTheFinalStageTheRest) {
  Fixture f("{}");
  f.system.files["/usr/lib/systemd/system/ssh.service"] = "[Service]\n";
  auto init = f.plan("ssh_host_keys");
  std::vector<Action> expected = {
      RemoveFile{"/etc/ssh/ssh_host_ed25519_key", "ssh_deletekeys: ssh_host_ed25519_key"},
      RemoveFile{"/etc/ssh/ssh_host_ed25519_key-cert.pub",
                 "ssh_deletekeys: ssh_host_ed25519_key-cert.pub"},
      RemoveFile{"/etc/ssh/ssh_host_ed25519_key.pub", "ssh_deletekeys: ssh_host_ed25519_key.pub"},
      RemoveFile{"/etc/ssh/ssh_host_rsa_key", "ssh_deletekeys: ssh_host_rsa_key"},
      RemoveFile{"/etc/ssh/ssh_host_rsa_key.pub", "ssh_deletekeys: ssh_host_rsa_key.pub"},
      keygen("ed25519"),
  };
  // No console blocks yet: they wait until every key exists.
  EXPECT_EQ(init.actions, expected) << dump(init.actions);
  EXPECT_EQ(init.summary, "1 host key(s) generated; ecdsa, rsa in the final stage");

  apply_to(init.actions, f.system);
  auto final = f.plan("ssh_host_keys_final");
  expected = {keygen("ecdsa"), keygen("rsa"), reload("ssh.service")};
  auto blocks = console_blocks(
      {"ssh_host_ecdsa_key.pub", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key.pub"});
  expected.insert(expected.end(), blocks.begin(), blocks.end());
  EXPECT_EQ(final.actions, expected) << dump(final.actions);
  EXPECT_EQ(final.summary, "2 host key(s) generated");

  // A second final stage (a rerun, `amiboot clean` without the init stage
  // before it) makes nothing again and reloads nothing; it prints them all.
  apply_to(final.actions, f.system);
  auto again = f.plan("ssh_host_keys_final");
  EXPECT_EQ(again.actions, blocks) << dump(again.actions);
  EXPECT_EQ(again.summary, "no host keys left to generate");
}

// The init row is a lane decided by plan (modules/lanes.h): its footprint
// names the key files, so the default user's row runs beside it and a
// volume mounted over /etc waits for it.
TEST(SshHostKeys, TheInitRowsFootprintIsItsKeyFiles) {
  Fixture f("users: [default]\n");
  f.system.files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/bash\n";
  auto init = f.plan("ssh_host_keys");
  ASSERT_TRUE(init.footprint.has_value());
  const auto& applied = init.footprint->applied;
  for (const char* path : {"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub",
                           "/etc/ssh/ssh_host_rsa_key"}) {
    EXPECT_NE(std::find(applied.begin(), applied.end(), path), applied.end()) << path;
  }
  EXPECT_EQ(lane_refusal(init.footprint), "");
  auto users = f.plan("users");
  EXPECT_EQ(lane_conflict("ssh_host_keys", *init.footprint, "users", users.footprint), "");
  PlanFootprint over_etc{{"/etc/fstab"}, {"/etc/fstab", "/etc"}, {"/etc"}};
  EXPECT_NE(lane_conflict("ssh_host_keys", *init.footprint, "volumes", over_etc), "");
}

TEST(SshHostKeys, TheLoginKeyIsEd25519WhenListedElseTheFirstType) {
  EXPECT_EQ(login_key_types({"ed25519", "ecdsa", "rsa"}), std::vector<std::string>{"ed25519"});
  EXPECT_EQ(login_key_types({"rsa", "ecdsa", "ed25519"}), std::vector<std::string>{"ed25519"});
  EXPECT_EQ(login_key_types({"rsa", "ecdsa"}), std::vector<std::string>{"rsa"});
  EXPECT_TRUE(login_key_types({}).empty());
  // Only rsa configured: sshd needs it, so it is made before sshd starts.
  Fixture f("ssh_genkeytypes: [rsa]\n");
  f.system.files.clear();
  f.system.files["/etc/ssh/sshd_config"] = "";
  f.system.files["/usr/lib/systemd/system/ssh.service"] = "";
  auto init = f.plan("ssh_host_keys");
  EXPECT_EQ(init.actions, std::vector<Action>{keygen("rsa")}) << dump(init.actions);
  EXPECT_EQ(init.summary, "1 host key(s) generated");
  apply_to(init.actions, f.system);
  EXPECT_EQ(f.plan("ssh_host_keys_final").actions, console_blocks({"ssh_host_rsa_key.pub"}));
}

TEST(SshHostKeys, SshdIsReloadedThroughItsOwnUnitAndNotWithoutOne) {
  // Debian and Ubuntu: ssh.service (sshd.service is only an alias there);
  // Amazon Linux, RHEL: sshd.service; no unit: nothing to reload.
  for (const auto& [unit_file, expected] : std::vector<std::pair<std::string, std::string>>{
           {"/lib/systemd/system/ssh.service", "ssh.service"},
           {"/usr/lib/systemd/system/sshd.service", "sshd.service"},
           {"/etc/systemd/system/sshd.service", "sshd.service"},
           {"", ""}}) {
    Fixture f("ssh_genkeytypes: [ed25519, ecdsa]\n");
    if (!unit_file.empty()) {
      f.system.files[unit_file] = "";
    }
    apply_to(f.plan("ssh_host_keys").actions, f.system);
    auto final = f.plan("ssh_host_keys_final");
    ASSERT_GE(final.actions.size(), 2u) << dump(final.actions);
    EXPECT_EQ(final.actions[0], Action{keygen("ecdsa")}) << dump(final.actions);
    if (expected.empty()) {
      EXPECT_EQ(std::get_if<ConsoleMessage>(&final.actions[1])->text,
                "-----BEGIN SSH HOST KEY FINGERPRINTS-----")
          << dump(final.actions);
    } else {
      // needs_host: the executor skips it under --root (the host's sshd is
      // not the root's).
      EXPECT_EQ(final.actions[1], Action{reload(expected)}) << unit_file << dump(final.actions);
    }
  }
}

TEST(SshHostKeys, KeepingKeysGeneratesOnlyMissingTypes) {
  Fixture f("ssh_deletekeys: false\nssh_genkeytypes: [ed25519, ecdsa]\n");
  auto init = f.plan("ssh_host_keys");
  EXPECT_TRUE(init.actions.empty()) << dump(init.actions);  // the image's ed25519 key is kept
  auto final = f.plan("ssh_host_keys_final");
  std::vector<Action> expected = {keygen("ecdsa")};
  auto blocks = console_blocks(
      {"ssh_host_ecdsa_key.pub", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key.pub"});
  expected.insert(expected.end(), blocks.begin(), blocks.end());
  EXPECT_EQ(final.actions, expected) << dump(final.actions);
}

WriteFile keygen_skip_marker() {
  return WriteFile{.path = "/run/amiboot/sshd-keygen-skipped",
                   .content =
                       "amiboot's ssh_host_keys makes this boot's host keys: "
                       "sshd-keygen@.service is skipped\n",
                   .label = "sshd-keygen@.service: skipped this boot"};
}

TEST(SshHostKeys, WhereSshdKeygenMakesKeysTheInitRowTellsItToStandAsideFirst) {
  // Amazon Linux and RHEL: sshd-keygen@<type>.service would make RSA on the
  // login path (sshd waits for it) or race ssh_deletekeys.
  Fixture f("{}");
  f.system.files["/usr/lib/systemd/system/sshd-keygen@.service"] = "";
  f.system.files["/usr/lib/systemd/system/sshd.service"] = "";
  auto init = f.plan("ssh_host_keys");
  ASSERT_FALSE(init.actions.empty());
  EXPECT_EQ(init.actions.front(), Action{keygen_skip_marker()}) << dump(init.actions);
  EXPECT_EQ(init.actions.back(), Action{keygen("ed25519")}) << dump(init.actions);
  // The final row makes the rest itself, and needs no marker of its own.
  apply_to(init.actions, f.system);
  auto final = f.plan("ssh_host_keys_final");
  EXPECT_EQ(final.actions[0], Action{keygen("ecdsa")}) << dump(final.actions);
  EXPECT_EQ(final.actions[1], Action{keygen("rsa")}) << dump(final.actions);
  for (const auto& a : final.actions) {
    EXPECT_EQ(std::get_if<WriteFile>(&a), nullptr) << dump(final.actions);
  }

  // Keys kept, but a type left for the final stage is missing: the marker
  // alone, so that sshd-keygen@ecdsa does not make it first.
  Fixture kept("ssh_deletekeys: false\nssh_genkeytypes: [ed25519, ecdsa]\n");
  kept.system.files["/usr/lib/systemd/system/sshd-keygen@.service"] = "";
  EXPECT_EQ(kept.plan("ssh_host_keys").actions, std::vector<Action>{keygen_skip_marker()});
  // Every type there and kept: nothing for anyone to make, no marker.
  Fixture all_there("ssh_deletekeys: false\nssh_genkeytypes: [ed25519, rsa]\n");
  all_there.system.files["/usr/lib/systemd/system/sshd-keygen@.service"] = "";
  EXPECT_TRUE(all_there.plan("ssh_host_keys").actions.empty());
  // Keys given in ssh_keys: cloud-init makes no other type, so neither may
  // sshd-keygen@.
  Fixture given("ssh_keys:\n  ed25519_private: " + block(fake_private("ssh-ed25519"), 4) +
                "  ed25519_public: " + fake_public("ssh-ed25519") + "\n");
  given.system.files["/etc/systemd/system/sshd-keygen@.service"] = "";
  auto installed = given.plan("ssh_host_keys");
  ASSERT_FALSE(installed.actions.empty());
  EXPECT_EQ(installed.actions.front(), Action{keygen_skip_marker()}) << dump(installed.actions);
  // Debian and Ubuntu have no such unit: no marker (the other tests' plans).
  Fixture debian("{}");
  for (const auto& a : debian.plan("ssh_host_keys").actions) {
    EXPECT_EQ(std::get_if<WriteFile>(&a), nullptr) << describe(a);
  }
}

TEST(SshHostKeys, TheSshdKeygenDropInIsSkippedExactlyWhileTheMarkerExists) {
  std::string conf = testing::read_file(testing::source_dir() + "/units/sshd-keygen-skipped.conf");
  EXPECT_NE(
      conf.find("\n[Unit]\nConditionPathExists=!" + std::string(kSshdKeygenSkipMarker) + "\n"),
      std::string::npos)
      << conf;
}

TEST(SshHostKeys, NoSshdOrNoKeygenMeansNothingToDo) {
  Fixture no_ssh("{}");
  no_ssh.system.files.clear();
  EXPECT_TRUE(no_ssh.plan("ssh_host_keys").actions.empty());
  EXPECT_TRUE(no_ssh.plan("ssh_host_keys_final").actions.empty());
  Fixture no_keygen("{}");
  no_keygen.system.programs.clear();
  auto plan = no_keygen.plan("ssh_host_keys");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning);
  // Said once, by the init row.
  auto final = no_keygen.plan("ssh_host_keys_final");
  EXPECT_TRUE(final.actions.empty());
  EXPECT_TRUE(final.diagnostics.empty());
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

TEST(SshHostKeys, QuietKeygenKeepsSshKeygensWordsOffTheConsole) {
  Fixture f("ssh_quiet_keygen: true\nssh_genkeytypes: [ed25519]\n");
  f.system.files.clear();
  f.system.files["/etc/ssh/sshd_config"] = "";
  auto plan = f.plan("ssh_host_keys");
  EXPECT_EQ(plan.actions, std::vector<Action>{keygen("ed25519", true)}) << dump(plan.actions);
  Fixture later("ssh_quiet_keygen: true\nssh_genkeytypes: [ed25519, rsa]\n");
  later.system.files.erase("/etc/ssh/ssh_host_rsa_key");
  later.system.files.erase("/etc/ssh/ssh_host_rsa_key.pub");
  auto final = later.plan("ssh_host_keys_final");
  ASSERT_FALSE(final.actions.empty());
  EXPECT_EQ(final.actions[0], Action{keygen("rsa", true)}) << dump(final.actions);
}

TEST(SshHostKeys, GeneratedKeysJoinTheSshKeysGroupWhereRhelHasOne) {
  // cloud-init's set_redhat_keyfile_perms: 0640 root:ssh_keys where the
  // group exists (RHEL 9, Fedora 37 and older).
  Fixture f("ssh_genkeytypes: [ed25519]\n");
  f.system.files.clear();
  f.system.files["/etc/ssh/sshd_config"] = "";
  f.system.files["/etc/os-release"] = "ID=\"rhel\"\nID_LIKE=\"fedora\"\n";
  f.system.files["/etc/group"] = "root:x:0:\nssh_keys:x:994:\n";
  auto plan = f.plan("ssh_host_keys");
  RunCommand chown{{"chown", "0:994"}, "ssh_keys group of ssh_host_ed25519_key"};
  chown.target_path("/etc/ssh/ssh_host_ed25519_key");
  RunCommand chmod{{"chmod", "0640"}, "mode 0640 of ssh_host_ed25519_key"};
  chmod.target_path("/etc/ssh/ssh_host_ed25519_key");
  std::vector<Action> expected = {keygen("ed25519"), chown, chmod};
  EXPECT_EQ(plan.actions, expected) << dump(plan.actions);
  // The final stage's keys too.
  Fixture later("ssh_genkeytypes: [ed25519, rsa]\n");
  later.system.files = f.system.files;
  later.system.files["/etc/ssh/ssh_host_ed25519_key"] = "private";
  later.system.files["/usr/lib/systemd/system/sshd.service"] = "";
  auto final = later.plan("ssh_host_keys_final");
  RunCommand rsa_chown{{"chown", "0:994"}, "ssh_keys group of ssh_host_rsa_key"};
  rsa_chown.target_path("/etc/ssh/ssh_host_rsa_key");
  RunCommand rsa_chmod{{"chmod", "0640"}, "mode 0640 of ssh_host_rsa_key"};
  rsa_chmod.target_path("/etc/ssh/ssh_host_rsa_key");
  ASSERT_GE(final.actions.size(), 4u) << dump(final.actions);
  EXPECT_EQ(std::vector<Action>(final.actions.begin(), final.actions.begin() + 4),
            (std::vector<Action>{keygen("rsa"), rsa_chown, rsa_chmod, reload("sshd.service")}))
      << dump(final.actions);
  // Debian has no such group, and RHEL 10 neither: 0600 root as made.
  f.system.files["/etc/os-release"] = "ID=debian\n";
  f.system.files["/etc/group"] = "root:x:0:\nssh_keys:x:994:\n";
  EXPECT_EQ(f.plan("ssh_host_keys").actions.size(), 1u);
}

// --- ssh_keys ----------------------------------------------------------------

TEST(SshKeys, GivenKeysAreInstalledAndNoneGenerated) {
  Fixture f("ssh_keys:\n  ed25519_private: " + block(fake_private("ssh-ed25519"), 4) +
            "  ed25519_public: " + fake_public("ssh-ed25519") + "\n" + "  rsa_private: " +
            block(fake_private("ssh-rsa"), 4) + "ssh_genkeytypes: [ed25519, ecdsa]\n");
  f.system.files.erase("/etc/ssh/ssh_host_ed25519_key-cert.pub");
  auto plan = f.plan("ssh_host_keys");
  ASSERT_EQ(plan.diagnostics.size(), 1u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(
      plan.diagnostics[0].format(),
      "user-data:17:18: warning: ssh_genkeytypes: ignored: no keys are generated when ssh_keys is "
      "given (as in cloud-init)");
  RunCommand derive{{"ssh-keygen", "-y", "-f"},
                    "ssh_keys.rsa_public from rsa_private (ssh-keygen -y)"};
  derive.target_path("/etc/ssh/ssh_host_rsa_key");
  derive.output_path = "/etc/ssh/ssh_host_rsa_key.pub";
  std::vector<Action> expected = {
      RemoveFile{"/etc/ssh/ssh_host_ed25519_key", "ssh_deletekeys: ssh_host_ed25519_key"},
      RemoveFile{"/etc/ssh/ssh_host_ed25519_key.pub", "ssh_deletekeys: ssh_host_ed25519_key.pub"},
      RemoveFile{"/etc/ssh/ssh_host_rsa_key", "ssh_deletekeys: ssh_host_rsa_key"},
      RemoveFile{"/etc/ssh/ssh_host_rsa_key.pub", "ssh_deletekeys: ssh_host_rsa_key.pub"},
      WriteFile{"/etc/ssh/ssh_host_rsa_key", fake_private("ssh-rsa"), 0600, "root:root", false,
                "ssh_keys.rsa_private"},
      derive,
      WriteFile{"/etc/ssh/ssh_host_ed25519_key", fake_private("ssh-ed25519"), 0600, "root:root",
                false, "ssh_keys.ed25519_private"},
      WriteFile{"/etc/ssh/ssh_host_ed25519_key.pub", fake_public("ssh-ed25519") + "\n", 0644,
                "root:root", false, "ssh_keys.ed25519_public"},
  };
  EXPECT_EQ(plan.actions, expected) << dump(plan.actions);
  EXPECT_EQ(plan.summary, "2 host key(s) from ssh_keys");
  // The final stage generates none either (ecdsa is listed and missing) and
  // so reloads nothing; it prints the given keys.
  f.system.files["/usr/lib/systemd/system/ssh.service"] = "";
  apply_to(plan.actions, f.system);
  f.system.files["/etc/ssh/ssh_host_rsa_key.pub"] = fake_public("ssh-rsa");  // ssh-keygen -y's
  auto final = f.plan("ssh_host_keys_final");
  EXPECT_EQ(final.actions, console_blocks({"ssh_host_ed25519_key.pub", "ssh_host_rsa_key.pub"}))
      << dump(final.actions);
  // A private key shows nowhere but in its file's content.
  for (const auto& a : plan.actions) {
    EXPECT_EQ(describe(a).find("PRIVATE KEY"), std::string::npos) << describe(a);
    EXPECT_EQ(action_to_json(a).dump().find("PRIVATE KEY"), std::string::npos);
  }
}

TEST(SshKeys, TheFinalStageKeepsNoPrivateKeyAndPlansTheSameFromWhatItStored) {
  // The final stage plans from the configs the init stage stored
  // (final-configs.json): that a key was given is kept, the key is not.
  Fixture f("ssh_keys:\n  ed25519_private: " + block(fake_private("ssh-ed25519"), 4) +
            "  ed25519_public: " + fake_public("ssh-ed25519") +
            "\nssh_fp_console_blacklist: [rsa]\nssh_deletekeys: false\n");
  f.system.files["/usr/lib/systemd/system/ssh.service"] = "";
  const ModuleSpec& row = testing::row("ssh_host_keys_final");
  ASSERT_NE(row.store, nullptr);
  Diagnostics d;
  DecodedConfig decoded = row.decode(f.config, d);
  ASSERT_TRUE(d.empty()) << testing::formatted(d);
  nlohmann::json stored = row.store(decoded.get());
  EXPECT_EQ(stored.dump().find("PRIVATE KEY"), std::string::npos) << stored.dump();
  EXPECT_EQ(stored.dump().find(base64_encode(std::string(64, 'F')).substr(0, 20)),
            std::string::npos);
  DecodedConfig loaded = row.load(nlohmann::json::parse(stored.dump()));
  Facts facts = f.facts();
  EXPECT_EQ(row.plan(loaded.get(), facts).actions, row.plan(decoded.get(), facts).actions);
  const auto& config = *static_cast<const std::optional<SshHostKeysConfig>*>(loaded.get());
  ASSERT_TRUE(config && config->given);
  ASSERT_EQ(config->given->size(), 1u);
  EXPECT_EQ((*config->given)[0].type, "ed25519");
  EXPECT_EQ((*config->given)[0].key_type, "ssh-ed25519");
  EXPECT_FALSE((*config->given)[0].private_key);
  EXPECT_EQ(config->fp_blacklist, std::vector<std::string>{"rsa"});
  EXPECT_FALSE(config->delete_keys);
}

TEST(SshKeys, CertificatesGetHostCertificateLines) {
  const std::string yaml =
      "ssh_keys:\n  ecdsa_private: " + block(fake_private("ecdsa-sha2-nistp384"), 4) +
      "  ecdsa_certificate: ecdsa-sha2-nistp384-cert-v01@openssh.com AAAAfake\n";
  Fixture f(yaml);
  f.system.files["/etc/ssh/sshd_config"] = "Include /etc/ssh/sshd_config.d/*.conf\n";
  auto plan = f.plan("ssh_host_keys");
  EXPECT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  auto find = [&](const std::string& path) -> const WriteFile* {
    for (const auto& a : plan.actions) {
      if (const auto* w = std::get_if<WriteFile>(&a); w != nullptr && w->path == path) {
        return w;
      }
    }
    return nullptr;
  };
  const WriteFile* cert = find("/etc/ssh/ssh_host_ecdsa_key-cert.pub");
  ASSERT_NE(cert, nullptr) << dump(plan.actions);
  EXPECT_EQ(cert->content, "ecdsa-sha2-nistp384-cert-v01@openssh.com AAAAfake\n");
  EXPECT_EQ(cert->mode, 0644u);
  const WriteFile* drop_in = find(kSshdCertificatesDropIn);
  ASSERT_NE(drop_in, nullptr) << dump(plan.actions);
  EXPECT_EQ(drop_in->content,
            "# Host certificates from ssh_keys in the user data (amiboot).\n"
            "HostCertificate /etc/ssh/ssh_host_ecdsa_key-cert.pub\n");
  EXPECT_EQ(drop_in->mode, 0600u);

  // Without the Include line, in sshd_config itself (before any Match).
  Fixture old(yaml);
  old.system.files["/etc/ssh/sshd_config"] = "Port 22\nMatch User x\n  X11Forwarding no\n";
  auto old_plan = old.plan("ssh_host_keys");
  bool edited = false;
  for (const auto& a : old_plan.actions) {
    if (const auto* w = std::get_if<WriteFile>(&a); w != nullptr && w->path == kSshdConfig) {
      edited = true;
      EXPECT_EQ(w->content,
                "Port 22\nHostCertificate /etc/ssh/ssh_host_ecdsa_key-cert.pub\nMatch User x\n  "
                "X11Forwarding no\n");
    }
  }
  EXPECT_TRUE(edited) << dump(old_plan.actions);
  // Already there: sshd_config is left alone.
  old.system.files["/etc/ssh/sshd_config"] =
      "HostCertificate /etc/ssh/ssh_host_ecdsa_key-cert.pub\n";
  for (const auto& a : old.plan("ssh_host_keys").actions) {
    const auto* w = std::get_if<WriteFile>(&a);
    EXPECT_TRUE(w == nullptr || w->path != kSshdConfig);
  }
  // A new instance without certificates drops the drop-in of the last one.
  Fixture later("{}");
  later.system.files["/etc/ssh/sshd_config"] = "Include /etc/ssh/sshd_config.d/*.conf\n";
  later.system.files[kSshdCertificatesDropIn] = "HostCertificate /x\n";
  bool removed = false;
  for (const auto& a : later.plan("ssh_host_keys").actions) {
    const auto* r = std::get_if<RemoveFile>(&a);
    removed = removed || (r != nullptr && r->path == kSshdCertificatesDropIn);
  }
  EXPECT_TRUE(removed);
}

TEST(SshKeys, BadPrivateKeysAreErrorsAtTheirPositionWithoutTheirText) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  const std::string encrypted_pem =
      "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n"
      "QUJD\n-----END RSA PRIVATE KEY-----\n";
  for (const auto& c : {
           Case{"ssh_keys:\n  rsa_private: SECRETSTUFF not a key\n",
                "user-data:2:16: ssh_keys.rsa_private: expected a private key block (-----BEGIN "
                "OPENSSH PRIVATE KEY----- ... -----END OPENSSH PRIVATE KEY-----, or a PEM one such "
                "as RSA PRIVATE KEY)"},
           Case{"ssh_keys:\n  rsa_private: " +
                    block("-----BEGIN PUBLIC KEY-----\nSECRETSTUFF\n-----END PUBLIC KEY-----\n", 4),
                "user-data:2:16: ssh_keys.rsa_private: expected a private key block (-----BEGIN "
                "OPENSSH PRIVATE KEY----- ... -----END OPENSSH PRIVATE KEY-----, or a PEM one such "
                "as RSA PRIVATE KEY)"},
           Case{"ssh_keys:\n  rsa_private: " +
                    block("-----BEGIN RSA PRIVATE KEY-----\nSECRETSTUFF\n-----END EC PRIVATE "
                          "KEY-----\n",
                          4),
                "user-data:2:16: ssh_keys.rsa_private: expected a private key block (-----BEGIN "
                "OPENSSH PRIVATE KEY----- ... -----END OPENSSH PRIVATE KEY-----, or a PEM one such "
                "as RSA PRIVATE KEY)"},
           Case{"ssh_keys:\n  rsa_private: " + block(encrypted_pem, 4),
                "user-data:2:16: ssh_keys.rsa_private: is encrypted with a passphrase; sshd "
                "cannot load such a host key"},
           Case{"ssh_keys:\n  ed25519_private: " +
                    block(fake_private("ssh-ed25519", "aes256-ctr"), 4),
                "user-data:2:20: ssh_keys.ed25519_private: is encrypted with a passphrase; sshd "
                "cannot load such a host key"},
           Case{"ssh_keys:\n  rsa_private: " + block(fake_private("ssh-ed25519"), 4),
                "user-data:2:16: ssh_keys.rsa_private: holds an ed25519 key (ssh-ed25519), not "
                "an RSA key"},
           Case{"ssh_keys:\n  ecdsa_private: " +
                    block("-----BEGIN OPENSSH PRIVATE KEY-----\nU0VDUkVUU1RVRkY=\n-----END "
                          "OPENSSH PRIVATE KEY-----\n",
                          4),
                "user-data:2:18: ssh_keys.ecdsa_private: is not an OpenSSH private key (no "
                "openssh-key-v1 header)"},
           Case{"ssh_keys:\n  ed25519_private: 12345\n",
                "user-data:2:20: ssh_keys.ed25519_private: expected a string, got an integer"},
           Case{"ssh_keys: [rsa_private]\n",
                "user-data:1:11: ssh_keys: expected a map, got a list"},
           Case{"ssh_quiet_keygen: sometimes\n",
                "user-data:1:19: ssh_quiet_keygen: expected a boolean (true or false), got a "
                "string"},
           Case{"ssh_publish_hostkeys: {enabled: 2}\n",
                "user-data:1:33: ssh_publish_hostkeys.enabled: expected a boolean (true or false), "
                "got an integer"},
           Case{"ssh: {emit_keys_to_console: maybe}\n",
                "user-data:1:29: ssh.emit_keys_to_console: expected a boolean (true or false), got "
                "a string"},
           Case{"ssh_fp_console_blacklist: ssh-rsa\n",
                "user-data:1:27: ssh_fp_console_blacklist: expected a list, got a string"},
           Case{"ssh_key_console_blacklist: [[ssh-rsa]]\n",
                "user-data:1:29: ssh_key_console_blacklist[0]: expected a string, got a list"},
           Case{"no_ssh_fingerprints: [true]\n",
                "user-data:1:22: no_ssh_fingerprints: expected a boolean (true or false), got a "
                "list"},
       }) {
    Fixture f(c.yaml);
    Diagnostics d;
    f.check("ssh_host_keys", d);
    ASSERT_TRUE(has_errors(d)) << c.yaml << testing::formatted(d);
    EXPECT_EQ(d[0].format(), c.message) << c.yaml << testing::formatted(d);
    for (const auto& x : d) {
      EXPECT_EQ(x.message.find("SECRETSTUFF"), std::string::npos) << x.format();
    }
    EXPECT_TRUE(f.plan("ssh_host_keys").actions.empty()) << c.yaml;
  }
}

TEST(SshKeys, UnknownTypesAndMismatchesAreWarnings) {
  Fixture f(
      "ssh_keys:\n  dsa_private: x\n  ed25519-sk_private: x\n  rsa_cert: x\n"
      "  ed25519_private: " +
      block(fake_private("ssh-ed25519"), 4) +
      "  ed25519_public: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKey other\n"
      "  ed25519_certificate: ssh-rsa-cert-v01@openssh.com AAAA\n"
      "  ecdsa_public: ssh-rsa AAAA\n");
  Diagnostics d;
  f.check("ssh_host_keys", d);
  EXPECT_FALSE(has_errors(d)) << testing::formatted(d);
  EXPECT_EQ(
      testing::formatted(d),
      "user-data:2:3: warning: ssh_keys.dsa_private: not a host key entry (rsa, ecdsa or "
      "ed25519, then _private, _public or _certificate); skipped\n"
      "user-data:3:3: warning: ssh_keys.ed25519-sk_private: security-key host keys are not "
      "supported (as in cloud-init); skipped\n"
      "user-data:4:3: warning: ssh_keys.rsa_cert: not a host key entry (rsa, ecdsa or "
      "ed25519, then _private, _public or _certificate); skipped\n"
      "user-data:13:24: warning: ssh_keys.ed25519_certificate: does not start with an ed25519 "
      "certificate type such as ssh-ed25519-cert-v01@openssh.com; installed as written\n"
      "user-data:14:17: warning: ssh_keys.ecdsa_public: does not start with an ecdsa key "
      "type such as ecdsa-sha2-nistp256; installed as written\n"
      "user-data:2:3: warning: ssh_keys.ecdsa_private: missing: sshd cannot use the ecdsa "
      "public key or certificate without it; they are installed as written\n"
      "user-data:2:3: warning: ssh_keys.ed25519_public: is not the public half of "
      "ed25519_private; installed as written\n");
  Fixture nothing("ssh_keys: {}\n");
  Diagnostics w;
  nothing.check("ssh_host_keys", w);
  ASSERT_EQ(w.size(), 1u) << testing::formatted(w);
  EXPECT_EQ(w[0].format(),
            "user-data:1:11: warning: ssh_keys: no private host key given, and none is generated "
            "when ssh_keys is set (as in cloud-init): with ssh_deletekeys, sshd will have no host "
            "key");
}

TEST(SshKeys, PrivateKeyTypes) {
  EXPECT_EQ(private_key_type(fake_private("ssh-ed25519")), "ssh-ed25519");
  EXPECT_EQ(private_key_type(fake_private("ecdsa-sha2-nistp521")), "ecdsa-sha2-nistp521");
  EXPECT_EQ(private_key_type("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"),
            "ssh-rsa");
  // PKCS #8 and SEC 1 by their algorithm and curve: fake DER around the OIDs.
  auto pem = [](const std::string& label, const std::string& der) {
    return "-----BEGIN " + label + "-----\n" + base64_encode(der) + "\n-----END " + label +
           "-----\n";
  };
  EXPECT_EQ(private_key_type(pem("PRIVATE KEY", std::string("\x30\x05\x06\x03\x2B\x65\x70", 7))),
            "ssh-ed25519");
  EXPECT_EQ(private_key_type(
                pem("EC PRIVATE KEY", std::string("\x30\x09\x06\x05\x2B\x81\x04\x00\x22", 9))),
            "ecdsa-sha2-nistp384");
  EXPECT_EQ(private_key_type("no key"), "");
}

// --- the console ---------------------------------------------------------------

TEST(SshKeys, ConsoleBlacklistsAndEmitKeysToConsole) {
  // Key types as the .pub files start, or the short names cloud-init's
  // documentation uses.
  Fixture f(
      "ssh_fp_console_blacklist: [ssh-ed25519]\nssh_key_console_blacklist: [rsa, ecdsa]\n"
      "ssh_deletekeys: false\nssh_genkeytypes: [ecdsa]\n");
  f.system.files["/etc/ssh/ssh_host_rsa_key.pub"] = "ssh-rsa AAAA image\n";
  f.system.files["/etc/ssh/ssh_host_ed25519_key.pub"] = "ssh-ed25519 AAAA image\n";
  auto plan = f.plan("ssh_host_keys_final");
  EXPECT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {keygen("ecdsa")};
  auto blocks = console_blocks({"ssh_host_ecdsa_key.pub", "ssh_host_rsa_key.pub"},
                               {"ssh_host_ed25519_key.pub"});
  expected.insert(expected.end(), blocks.begin(), blocks.end());
  EXPECT_EQ(plan.actions, expected) << dump(plan.actions);
  // Everything left out: no markers either, as cloud-init's script.
  Fixture none(
      "ssh_fp_console_blacklist: [rsa, ecdsa, ed25519]\n"
      "ssh_key_console_blacklist: [ssh-rsa, ecdsa-sha2-nistp256, ssh-ed25519]\n");
  for (const auto& a : none.plan("ssh_host_keys_final").actions) {
    EXPECT_EQ(std::get_if<ConsoleMessage>(&a), nullptr) << describe(a);
  }
  Fixture off("ssh: {emit_keys_to_console: false}\n");
  auto quiet = off.plan("ssh_host_keys_final");
  EXPECT_EQ(quiet.actions.size(), 1u) << dump(quiet.actions);  // ecdsa generated
  for (const auto& a : quiet.actions) {
    EXPECT_EQ(std::get_if<ConsoleMessage>(&a), nullptr) << describe(a);
  }
}

TEST(SshKeys, PublishingAndAuthorizedKeyFingerprintsAreAcceptedAndSaidSo) {
  Fixture f("ssh_publish_hostkeys: {enabled: true, blacklist: [rsa]}\nno_ssh_fingerprints: true\n");
  Diagnostics d;
  f.check("ssh_host_keys", d);
  ASSERT_EQ(d.size(), 1u) << testing::formatted(d);
  EXPECT_EQ(d[0].format(),
            "user-data:1:23: warning: ssh_publish_hostkeys: EC2 has nowhere to publish host keys "
            "to (cloud-init's EC2 source publishes none either); ignored");
  Fixture off("ssh_publish_hostkeys: {enabled: false}\nno_ssh_fingerprints: false\n");
  Diagnostics none;
  off.check("ssh_host_keys", none);
  EXPECT_TRUE(none.empty()) << testing::formatted(none);
}

TEST(SshKeys, CloudInitsDocumentedExamplesAreAcceptedAndActedOn) {
  // doc/module-docs/cc_ssh/example1.yaml, as written (its keys are cut
  // short with "...", so the private key's body is not base64: a warning).
  const std::string ssh_example = R"(allow_public_ssh_keys: true
disable_root: true
disable_root_opts: no-port-forwarding,no-agent-forwarding,no-X11-forwarding
ssh_authorized_keys: [ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAGEA3FSyQwBI6Z+nCSjUU ..., ssh-rsa
    AAAAB3NzaC1yc2EAAAABIwAAAQEA3I7VUf2l5gSn5uavROsc5HRDpZ ...]
ssh_deletekeys: true
ssh_genkeytypes: [rsa, ecdsa, ed25519]
ssh_keys: {rsa_certificate: 'ssh-rsa-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQt
    ...

    ', rsa_private: '-----BEGIN RSA PRIVATE KEY-----

    MIIBxwIBAAJhAKD0YSHy73nUgysO13XsJmd4fHiFyQ+00R7VVu2iV9Qco

    ...

    -----END RSA PRIVATE KEY-----

    ', rsa_public: ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAGEAoPRhIfLvedSDKw7Xd ...}
ssh_publish_hostkeys:
  blacklist: [rsa]
  enabled: true
ssh_quiet_keygen: true
)";
  auto doc = parse_yaml(ssh_example, "user-data");
  ASSERT_TRUE(doc.ok());
  Diagnostics d;
  EXPECT_TRUE(decode_cloud_config(*doc, d).has_value()) << testing::formatted(d);
  EXPECT_FALSE(has_errors(d)) << testing::formatted(d);
  for (const auto& x : d) {
    EXPECT_EQ(x.message.find("unknown key"), std::string::npos) << x.format();
  }
  Fixture f(ssh_example);
  f.system.files["/etc/ssh/sshd_config"] = "Include /etc/ssh/sshd_config.d/*.conf\n";
  auto plan = f.plan("ssh_host_keys");
  std::vector<std::string> written;
  for (const auto& a : plan.actions) {
    if (const auto* w = std::get_if<WriteFile>(&a)) {
      written.push_back(w->path);
    }
    if (const auto* r = std::get_if<RunCommand>(&a)) {
      EXPECT_NE(r->argv[1], "-t") << "ssh_keys given: nothing is generated";
    }
  }
  EXPECT_EQ(written, (std::vector<std::string>{
                         "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key.pub",
                         "/etc/ssh/ssh_host_rsa_key-cert.pub", kSshdCertificatesDropIn}))
      << dump(plan.actions);
  // Its authorized-key half is the users row's: root gets the keys behind
  // disable_root_opts, as written there.
  f.system.files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/bash\n";
  f.system.files["/etc/os-release"] = "ID=debian\n";
  bool root_keys = false;
  for (const auto& a : f.plan("users").actions) {
    if (const auto* w = std::get_if<WriteFile>(&a);
        w != nullptr && w->path == "/root/.ssh/authorized_keys") {
      root_keys = w->content.starts_with(
          "no-port-forwarding,no-agent-forwarding,no-X11-forwarding ssh-rsa "
          "AAAAB3NzaC1yc2EAAAABIwAAAGEA3FSyQwBI6Z+nCSjUU ...\n");
    }
  }
  EXPECT_TRUE(root_keys);

  // cc_keys_to_console's examples and cc_ssh_authkey_fingerprints' first.
  for (const std::string& yaml :
       {std::string("ssh:\n  emit_keys_to_console: false\n"),
        std::string("ssh_key_console_blacklist: [rsa]\n"),
        std::string("ssh_fp_console_blacklist:\n- E25451E0221B5773DEBFF178ECDACB160995AA89\n"
                    "- FE76292D55E8B28EE6DB2B34B2D8A784F8C0AAB0\n"),
        std::string("no_ssh_fingerprints: true\n")}) {
    auto example = parse_yaml(yaml, "user-data");
    ASSERT_TRUE(example.ok());
    Diagnostics e;
    EXPECT_TRUE(decode_cloud_config(*example, e).has_value()) << yaml << testing::formatted(e);
    for (const auto& x : e) {
      EXPECT_EQ(x.message.find("no module"), std::string::npos) << x.format();
      EXPECT_EQ(x.message.find("unknown key"), std::string::npos) << x.format();
    }
  }
  Fixture no_keys("ssh:\n  emit_keys_to_console: false\n");
  for (const auto& a : no_keys.plan("ssh_host_keys").actions) {
    EXPECT_EQ(std::get_if<ConsoleMessage>(&a), nullptr);
  }
  Fixture no_rsa("ssh_key_console_blacklist: [rsa]\n");
  for (const auto& a : no_rsa.plan("ssh_host_keys").actions) {
    const auto* r = std::get_if<RunCommand>(&a);
    EXPECT_FALSE(r != nullptr && r->argv[0] == "cat" &&
                 r->argv[1].find("rsa") != std::string::npos);
  }
}

// --- the executor's side: ssh-keygen -y into the .pub -----------------------------

TEST(SshKeys, OutputPathTakesTheCommandsStdoutIntoTheFile) {
  testing::RecordingSystem system("/sandbox");
  system.allow_writes("/etc/ssh");
  system.expect_run({"ssh-keygen", "-y", "-f", "/sandbox/etc/ssh/ssh_host_rsa_key"}, 0,
                    "ssh-rsa AAAAfake\n");
  RunCommand derive{{"ssh-keygen", "-y", "-f"}, "derive"};
  derive.target_path("/etc/ssh/ssh_host_rsa_key");
  derive.output_path = "/etc/ssh/ssh_host_rsa_key.pub";
  ExecContext ctx{system, "i-0123456789abcdef0", {}};
  EXPECT_TRUE(execute({derive}, ctx).ok());
  ASSERT_EQ(system.commands.size(), 1u);
  EXPECT_TRUE(system.commands[0].capture_stdout);
  ASSERT_EQ(system.writes.size(), 1u);
  EXPECT_EQ(system.writes[0].path, "/etc/ssh/ssh_host_rsa_key.pub");
  EXPECT_EQ(system.writes[0].content, "ssh-rsa AAAAfake\n");
  EXPECT_EQ(system.writes[0].mode, 0644u);
  EXPECT_EQ(describe(derive),
            "run ssh-keygen -y -f \"{root}/etc/ssh/ssh_host_rsa_key\" > "
            "\"{root}/etc/ssh/ssh_host_rsa_key.pub\"");
  // A failure or no output writes nothing.
  testing::RecordingSystem failing;
  failing.expect_run({"ssh-keygen", "-y", "-f", "/etc/ssh/ssh_host_rsa_key"}, 255);
  failing.expect_run({"ssh-keygen", "-y", "-f", "/etc/ssh/ssh_host_rsa_key"}, 0, "");
  ExecContext fctx{failing, "i-0123456789abcdef0", {}};
  auto outcome = execute({derive, derive}, fctx);
  ASSERT_EQ(outcome.errors.size(), 2u);
  EXPECT_EQ(outcome.errors[0], "derive exited with status 255");
  EXPECT_EQ(outcome.errors[1], "derive printed nothing; /etc/ssh/ssh_host_rsa_key.pub not written");
  EXPECT_TRUE(failing.writes.empty());
}

}  // namespace
}  // namespace amiboot
