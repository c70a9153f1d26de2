// SPDX-License-Identifier: Apache-2.0
// Users, host keys and hostname with the real tools: the amiboot binary
// against the fake IMDS, real useradd --root / gpasswd -Q / chpasswd / visudo
// / ssh-keygen in a sandbox root that looks like a Debian image.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/core/strings.h"
#include "agent/executor.h"
#include "agent/system.h"
#include "tests/support/fake_imds.h"
#include "tests/support/os_root.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kImdsKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly000000000000000000000 test-key";
constexpr const char* kBobHash =
    "$6$saltsaltsalt$wpo9fsag2/DwyXTA1svcnf3TwGfP2uTtYx1xhSAYgpu43Tv3X1quA1VWuxLds3j3BRp0u/"
    "twmVmJaBvZ8EB1A.";  // crypt("bob pass")
constexpr const char* kRootOptions =
    "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command=\"echo 'Please login as "
    "the user \\\"admin\\\" rather than the user \\\"root\\\".';echo;sleep 10;exit 142\"";

class UsersAgent : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = user_tools_missing();
    if (!missing.empty()) {
      std::printf("skipping: %s\n", missing.c_str());
      GTEST_SKIP() << missing;
    }
    make_debian_root(root.path());
  }

  CommandResult run_agent(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {amiboot_binary(), "run",    "--root",
                                     root.path(),      "--imds", imds.url()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args, {{"AMIBOOT_LOG", "stderr"}});
  }
  nlohmann::json module(const std::string& stage, const std::string& name) {
    auto doc = nlohmann::json::parse(read_file(root / "run/amiboot/status.json"));
    for (const auto& m : doc["stages"][stage]["modules"]) {
      if (m["name"] == name) {
        return m;
      }
    }
    return nullptr;
  }
  // The line for `name` in one of the sandbox's colon files, split.
  std::vector<std::string> entry(const std::string& file, const std::string& name) {
    std::string text = read_file(root / file);
    std::size_t at = text.rfind(name + ":", 0) == 0 ? 0 : text.find("\n" + name + ":");
    if (at == std::string::npos) {
      return {};
    }
    at = at == 0 ? 0 : at + 1;
    return split_colon_fields(text.substr(at, text.find('\n', at) - at));
  }
  std::string gid_of(const std::string& group) { return entry("etc/group", group).at(2); }
  std::string members_of(const std::string& group) { return entry("etc/group", group).at(3); }
  struct stat stat_of(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(lstat((root / rel).c_str(), &st), 0) << rel;
    return st;
  }
  void reboot() { fs::remove_all(root / "run"); }
  std::map<std::string, std::string> snapshot(const std::vector<std::string>& files) {
    std::map<std::string, std::string> out;
    for (const auto& f : files) {
      out[f] = read_file(root / f);
    }
    return out;
  }

  FakeImds imds;
  TempDir root;
};

constexpr const char* kUsers = R"(#cloud-config
users:
  - default
  - name: bob
    gecos: Bob Builder
    primary_group: builders
    groups: [adm, devs]
    shell: /bin/bash
    sudo: ["ALL=(ALL) NOPASSWD:ALL", "ALL=(root) /usr/bin/journalctl"]
    uid: 1500
    homedir: /srv/bob
    expiredate: '2030-12-31'
    lock_passwd: false
    hashed_passwd: '$6$saltsaltsalt$wpo9fsag2/DwyXTA1svcnf3TwGfP2uTtYx1xhSAYgpu43Tv3X1quA1VWuxLds3j3BRp0u/twmVmJaBvZ8EB1A.'
    ssh_authorized_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBobsKey bob@laptop]
  - name: svc
    system: true
    no_create_home: true
    shell: /usr/sbin/nologin
groups:
  - ops: [bob, admin]
ssh_authorized_keys: [ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQExtra extra@host]
)";

TEST_F(UsersAgent, EachFieldLandsWhereCloudInitPutsIt) {
  imds.set_user_data(kUsers);
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("init", "users")["result"], "ok") << r.err;

  // The default user: Debian's defaults, the IMDS key and the top-level one.
  auto admin = entry("etc/passwd", "admin");
  ASSERT_EQ(admin.size(), 7u) << read_file(root / "etc/passwd");
  EXPECT_EQ(admin[2], "1000");
  EXPECT_EQ(admin[4], "Debian");
  EXPECT_EQ(admin[5], "/home/admin");
  EXPECT_EQ(admin[6], "/bin/bash");
  EXPECT_EQ(entry("etc/shadow", "admin").at(1), "!");  // lock_passwd: no password login
  for (const char* g : {"adm", "audio", "cdrom", "dialout", "dip", "floppy", "netdev", "plugdev",
                        "sudo", "video"}) {
    EXPECT_NE(("," + members_of(g) + ",").find(",admin,"), std::string::npos) << g;
  }
  EXPECT_EQ(read_file(root / "home/admin/.ssh/authorized_keys"),
            std::string(kImdsKey) + "\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQExtra extra@host\n");

  // bob: every field.
  auto bob = entry("etc/passwd", "bob");
  ASSERT_EQ(bob.size(), 7u);
  EXPECT_EQ(bob[2], "1500");
  EXPECT_EQ(bob[3], gid_of("builders"));  // primary_group, created for him
  EXPECT_EQ(bob[4], "Bob Builder");
  EXPECT_EQ(bob[5], "/srv/bob");
  EXPECT_EQ(bob[6], "/bin/bash");
  auto bob_shadow = entry("etc/shadow", "bob");
  EXPECT_EQ(bob_shadow.at(1), kBobHash);  // hashed_passwd, unlocked (lock_passwd: false)
  EXPECT_EQ(bob_shadow.at(7), "22279");   // expiredate 2030-12-31, in days since 1970
  EXPECT_EQ(members_of("adm"), "admin,bob");
  EXPECT_EQ(members_of("devs"), "bob");
  EXPECT_EQ(members_of("ops"), "bob,admin");  // top-level groups with members
  EXPECT_TRUE(fs::is_directory(root / "srv/bob"));
  EXPECT_EQ(read_file(root / "srv/bob/.ssh/authorized_keys"),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBobsKey bob@laptop\n");

  // svc: a system user without a home.
  auto svc = entry("etc/passwd", "svc");
  ASSERT_EQ(svc.size(), 7u);
  EXPECT_LT(std::stoi(svc[2]), 1000);
  EXPECT_EQ(svc[6], "/usr/sbin/nologin");
  EXPECT_FALSE(exists(root / svc[5].substr(1)));

  // One sudoers file, 0440 root, with cloud-init's layout.
  EXPECT_EQ(read_file(root / "etc/sudoers.d/90-amiboot-users"),
            "# Sudo rules of the users amiboot created (cloud-init's users[].sudo).\n"
            "# Rewritten on each new instance.\n"
            "\n# User rules for admin\nadmin ALL=(ALL) NOPASSWD:ALL\n"
            "\n# User rules for bob\nbob ALL=(ALL) NOPASSWD:ALL\nbob ALL=(root) "
            "/usr/bin/journalctl\n");
  auto sudoers = stat_of("etc/sudoers.d/90-amiboot-users");
  EXPECT_EQ(sudoers.st_mode & 07777, 0440u);
  EXPECT_EQ(sudoers.st_uid, 0u);
  EXPECT_EQ(run({"visudo", "-cf", root / "etc/sudoers.d/90-amiboot-users"}).exit_code, 0);

  // authorized_keys 0600 in a 0700 .ssh, both the user's.
  for (auto [user, home] : {std::pair{"admin", "home/admin"}, std::pair{"bob", "srv/bob"}}) {
    uid_t uid = static_cast<uid_t>(std::stoul(entry("etc/passwd", user).at(2)));
    gid_t gid = static_cast<gid_t>(std::stoul(entry("etc/passwd", user).at(3)));
    auto dir = stat_of(std::string(home) + "/.ssh");
    auto keys = stat_of(std::string(home) + "/.ssh/authorized_keys");
    EXPECT_EQ(dir.st_mode & 07777, 0700u) << user;
    EXPECT_EQ(keys.st_mode & 07777, 0600u) << user;
    EXPECT_EQ(dir.st_uid, uid) << user;
    EXPECT_EQ(keys.st_uid, uid) << user;
    EXPECT_EQ(keys.st_gid, gid) << user;
  }
  // disable_root (default true): root's copy only says whom to log in as.
  EXPECT_EQ(read_file(root / "root/.ssh/authorized_keys"),
            std::string(kRootOptions) + " " + kImdsKey + "\n" + kRootOptions +
                " ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQExtra extra@host\n");
  EXPECT_EQ(stat_of("root/.ssh/authorized_keys").st_mode & 07777, 0600u);
  // Hashes are secrets too: not in the journal (stderr here) or the status.
  EXPECT_EQ(r.err.find("saltsaltsalt"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(root / "run/amiboot/status.json").find("saltsaltsalt"), std::string::npos);
}

TEST_F(UsersAgent, PlainTextPasswordIsHashedAndLockedByDefault) {
  imds.set_user_data(
      "#cloud-config\nusers:\n  - name: carol\n    plain_text_passwd: 'Carol pass 1'\n"
      "  - name: dave\n    plain_text_passwd: 'Dave pass 2'\n    lock_passwd: false\n");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("pass 1"), std::string::npos) << r.err;
  auto verifies = [](const std::string& password, const std::string& hash) {
    auto out = run({"perl", "-e", "print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 'yes' : 'no'",
                    password, hash});
    return out.out == "yes";
  };
  std::string carol = entry("etc/shadow", "carol").at(1);
  ASSERT_EQ(carol.rfind("!$6$", 0), 0u) << carol;  // cloud-init locks unless told not to
  EXPECT_TRUE(verifies("Carol pass 1", carol.substr(1)));
  std::string dave = entry("etc/shadow", "dave").at(1);
  ASSERT_EQ(dave.rfind("$6$", 0), 0u) << dave;
  EXPECT_TRUE(verifies("Dave pass 2", dave));
  EXPECT_FALSE(verifies("wrong", dave));
}

TEST_F(UsersAgent, RunningTwiceChangesNothingAndReportsNoError) {
  imds.set_user_data(kUsers);
  ASSERT_EQ(run_agent().exit_code, 0);
  const std::vector<std::string> files = {"etc/passwd",
                                          "etc/shadow",
                                          "etc/group",
                                          "etc/gshadow",
                                          "etc/sudoers.d/90-amiboot-users",
                                          "home/admin/.ssh/authorized_keys",
                                          "srv/bob/.ssh/authorized_keys",
                                          "root/.ssh/authorized_keys",
                                          "etc/hostname"};
  auto before = snapshot(files);
  // The same instance again: per-instance modules are done.
  reboot();
  auto again = run_agent();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(module("init", "users")["reason"], "already ran for this instance");
  EXPECT_EQ(snapshot(files), before);
  // A new instance id plans users again against what is there: nothing to do.
  reboot();
  imds.set_instance_id("i-0fedcba9876543210");
  auto copy = run_agent();
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  auto users = module("init", "users");
  EXPECT_EQ(users["result"], "skipped") << users.dump();
  EXPECT_EQ(users["reason"], "nothing to do") << users.dump();
  EXPECT_TRUE(users["errors"].empty());
  EXPECT_EQ(snapshot(files), before);
  EXPECT_TRUE(nlohmann::json::parse(read_file(root / "run/amiboot/status.json"))["errors"].empty());
}

TEST_F(UsersAgent, SudoRuleVisudoRejectsNamesTheKeyAndLineAndCreatesNoUser) {
  imds.set_user_data(R"(#cloud-config
users:
  - default
  - name: mallory
    sudo: "ALL=(ALL NOPASSWD:ALL"
)");
  std::string passwd = read_file(root / "etc/passwd");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  auto users = module("init", "users");
  EXPECT_EQ(users["result"], "failed");
  ASSERT_GE(users["errors"].size(), 2u) << users.dump();
  // One visudo for the whole file; its "FILE:8:18: syntax error" traced
  // back to the rule's key and position.
  EXPECT_EQ(users["errors"][0],
            "sudo rules of default user (distribution defaults for /etc/os-release ID=debian), "
            "users[1].sudo (user-data:5:11): visudo rejected line 8 of the new "
            "/etc/sudoers.d/90-amiboot-users, from users[1].sudo (user-data:5:11) (exit status "
            "1); the old file is unchanged");
  EXPECT_EQ(users["errors"][1].get<std::string>().rfind("skipped the remaining", 0), 0u);
  // visudo's own words reach the journal.
  EXPECT_NE(r.err.find("syntax error"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(root / "etc/passwd"), passwd);
  EXPECT_FALSE(exists(root / "etc/sudoers.d/90-amiboot-users"));
  EXPECT_FALSE(exists(root / "home/mallory"));
}

TEST_F(UsersAgent, SchemaErrorRejectsTheConfigButTheDefaultUserStillGetsTheImdsKey) {
  imds.set_user_data(R"(#cloud-config
users:
  - default
  - name: bob
    groups: 5
)");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("user-data:5:13: users[1].groups: expected a comma-separated string or a "
                       "list of group names, got an integer"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(entry("etc/passwd", "bob").empty());
  ASSERT_FALSE(entry("etc/passwd", "admin").empty());
  EXPECT_EQ(read_file(root / "home/admin/.ssh/authorized_keys"), std::string(kImdsKey) + "\n");
}

TEST_F(UsersAgent, YamlSyntaxErrorStillGivesTheDefaultUserWithTheImdsKey) {
  imds.set_user_data("#cloud-config\nusers:\n  - name: bob\n\tsudo: oops\n");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cloud-config rejected whole"), std::string::npos) << r.err;
  EXPECT_EQ(module("init", "users")["result"], "ok") << r.err;
  ASSERT_FALSE(entry("etc/passwd", "admin").empty()) << read_file(root / "etc/passwd");
  EXPECT_TRUE(entry("etc/passwd", "bob").empty());
  EXPECT_EQ(read_file(root / "home/admin/.ssh/authorized_keys"), std::string(kImdsKey) + "\n");
  EXPECT_EQ(stat_of("home/admin/.ssh/authorized_keys").st_uid, 1000u);
  EXPECT_NE(read_file(root / "etc/sudoers.d/90-amiboot-users").find("admin ALL=(ALL) NOPASSWD:ALL"),
            std::string::npos);
}

TEST_F(UsersAgent, ImageConfigDefinesTheDefaultUser) {
  write_file(root / "etc/amiboot/amiboot.yaml",
             "system_info:\n  default_user:\n    name: ops\n    gecos: Operations\n"
             "    groups: [adm]\n    sudo: false\n");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ops = entry("etc/passwd", "ops");
  ASSERT_EQ(ops.size(), 7u);
  EXPECT_EQ(ops[4], "Operations");
  EXPECT_EQ(ops[6], "/bin/bash");  // from Debian's defaults under the image's
  EXPECT_EQ(members_of("adm"), "ops");
  EXPECT_TRUE(entry("etc/passwd", "admin").empty());
  EXPECT_FALSE(exists(root / "etc/sudoers.d/90-amiboot-users"));
  EXPECT_EQ(read_file(root / "home/ops/.ssh/authorized_keys"), std::string(kImdsKey) + "\n");
}

TEST_F(UsersAgent, HostKeysAreNewForEachInstanceAndTheirFingerprintsGoToTheConsole) {
  add_image_host_keys(root.path());
  auto image = host_key_fingerprints(root.path());
  ASSERT_EQ(image.size(), 2u);
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto first = host_key_fingerprints(root.path());
  ASSERT_EQ(first.size(), 3u);  // ecdsa, ed25519, rsa
  for (const auto& fp : image) {
    EXPECT_EQ(std::find(first.begin(), first.end(), fp), first.end()) << fp;
  }
  EXPECT_EQ(stat_of("etc/ssh/ssh_host_ed25519_key").st_mode & 07777, 0600u);
  // The fingerprints between cloud-init's markers on the console, in order.
  std::string block = "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n";
  for (const auto& fp : first) {
    block += fp + "\n";
  }
  block += "-----END SSH HOST KEY FINGERPRINTS-----\n";
  EXPECT_NE(r.out.find(block), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-----BEGIN SSH HOST KEY KEYS-----\n" +
                       read_file(root / "etc/ssh/ssh_host_ecdsa_key.pub")),
            std::string::npos)
      << r.out;
  // A reboot of the same instance keeps them.
  reboot();
  auto same = run_agent();
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(host_key_fingerprints(root.path()), first);
  EXPECT_EQ(same.out.find("FINGERPRINTS"), std::string::npos);
  // A copy of the image, launched as a new instance, gets its own.
  reboot();
  imds.set_instance_id("i-0fedcba9876543210");
  auto copy = run_agent();
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  auto second = host_key_fingerprints(root.path());
  ASSERT_EQ(second.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NE(second[i], first[i]);
    EXPECT_NE(copy.out.find(second[i]), std::string::npos) << copy.out;
  }
}

TEST_F(UsersAgent, TheInitStageMakesTheLoginKeyAndTheFinalStageTheRestWithTheirFingerprints) {
  add_image_host_keys(root.path());
  // The image's sshd unit: the final stage plans its reload, which is the
  // host's business and so skipped under --root.
  write_file(root / "usr/lib/systemd/system/ssh.service", "[Service]\nExecStart=/usr/sbin/sshd\n");
  auto init = run_agent({"--stage", "init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  // Only the key sshd needs to start, before it starts; the image's are gone.
  auto after_init = host_key_fingerprints(root.path());
  ASSERT_EQ(after_init.size(), 1u);
  EXPECT_NE(after_init[0].find("(ED25519)"), std::string::npos) << after_init[0];
  EXPECT_FALSE(exists(root / "etc/ssh/ssh_host_rsa_key"));
  EXPECT_FALSE(exists(root / "etc/ssh/ssh_host_ecdsa_key"));
  EXPECT_EQ(init.out.find("FINGERPRINTS"), std::string::npos) << init.out;
  EXPECT_EQ(module("init", "ssh_host_keys")["summary"],
            "1 host key(s) generated; ecdsa, rsa in the final stage");

  auto final = run_agent({"--stage", "final"});
  ASSERT_EQ(final.exit_code, 0) << final.err;
  EXPECT_EQ(module("final", "ssh_host_keys_final")["result"], "ok") << final.err;
  auto all = host_key_fingerprints(root.path());
  ASSERT_EQ(all.size(), 3u);  // ecdsa, ed25519, rsa
  EXPECT_NE(all[0].find("(ECDSA)"), std::string::npos) << all[0];
  EXPECT_EQ(all[1], after_init[0]);  // the init stage's key is not made again
  EXPECT_NE(all[2].find("(RSA)"), std::string::npos) << all[2];
  EXPECT_NE(all[2].find("3072 "), std::string::npos) << all[2];
  for (const char* type : {"ecdsa", "rsa"}) {
    EXPECT_EQ(stat_of("etc/ssh/ssh_host_" + std::string(type) + "_key").st_mode & 07777, 0600u);
  }
  // Every fingerprint between cloud-init's markers on the final stage's console.
  std::string block = "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n";
  for (const auto& fp : all) {
    block += fp + "\n";
  }
  block += "-----END SSH HOST KEY FINGERPRINTS-----\n";
  EXPECT_NE(final.out.find(block), std::string::npos) << final.out;
  EXPECT_NE(final.out.find("-----BEGIN SSH HOST KEY KEYS-----\n" +
                           read_file(root / "etc/ssh/ssh_host_ecdsa_key.pub") +
                           read_file(root / "etc/ssh/ssh_host_ed25519_key.pub") +
                           read_file(root / "etc/ssh/ssh_host_rsa_key.pub") +
                           "-----END SSH HOST KEY KEYS-----\n"),
            std::string::npos)
      << final.out;
  // The reload was planned and, under --root, not run.
  EXPECT_NE(final.err.find("sshd: reload for the new host keys: skipped under --root"),
            std::string::npos)
      << final.err;

  // `amiboot clean` and both stages again: a new set, made the same way.
  auto clean = run({amiboot_binary(), "clean", "--root", root.path()});
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  reboot();
  ASSERT_EQ(run_agent({"--stage", "init"}).exit_code, 0);
  auto again = host_key_fingerprints(root.path());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0], all[1]);
  ASSERT_EQ(run_agent({"--stage", "final"}).exit_code, 0);
  EXPECT_EQ(host_key_fingerprints(root.path()).size(), 3u);
}

TEST_F(UsersAgent, HostKeyTypesAndKeepingFromConfig) {
  add_image_host_keys(root.path());
  auto image = host_key_fingerprints(root.path());
  imds.set_user_data("#cloud-config\nssh_deletekeys: false\nssh_genkeytypes: [ed25519, ecdsa]\n");
  ASSERT_EQ(run_agent().exit_code, 0);
  auto after = host_key_fingerprints(root.path());
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[1], image[0]);  // ed25519 kept
  EXPECT_EQ(after[2], image[1]);  // rsa kept (not asked for, not deleted)
  EXPECT_NE(after[0].find("(ECDSA)"), std::string::npos);
}

TEST_F(UsersAgent, HostnameGoesToEtcHostnameAndHostsButNeverToTheHost) {
  imds.set_user_data("#cloud-config\nmanage_etc_hosts: true\n");
  write_file(root / "etc/hosts",
             "127.0.0.1\tlocalhost\n127.0.1.1\timage-builder\n10.1.2.3 db.internal db\n");
  char before[256] = {};
  gethostname(before, sizeof before - 1);
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  char after[256] = {};
  gethostname(after, sizeof after - 1);
  EXPECT_STREQ(after, before);
  EXPECT_NE(r.err.find("hostname: set the running hostname: skipped under --root"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(read_file(root / "etc/hostname"), "ip-10-0-0-12\n");
  EXPECT_EQ(read_file(root / "etc/hosts"),
            "127.0.0.1\tlocalhost\n"
            "127.0.1.1 ip-10-0-0-12.ec2.internal ip-10-0-0-12 # amiboot manage_etc_hosts\n"
            "10.1.2.3 db.internal db\n");
  auto hosts = stat_of("etc/hosts");
  EXPECT_EQ(hosts.st_mode & 07777, 0644u);
}

TEST_F(UsersAgent, DryRunShowsCommandsButNoPasswords) {
  imds.set_user_data(kUsers);
  auto r = run_agent({"--dry-run", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("saltsaltsalt"), std::string::npos);
  auto plan = nlohmann::json::parse(r.out);
  bool useradd_bob = false;
  for (const auto& m : plan["stages"][0]["modules"]) {
    if (m["name"] != "users") {
      continue;
    }
    for (const auto& a : m["actions"]) {
      if (a["action"] == "run" && a["argv"][0] == "useradd" && a["argv"].back() == "bob") {
        useradd_bob = true;
      }
    }
  }
  EXPECT_TRUE(useradd_bob) << r.out;
  EXPECT_TRUE(entry("etc/passwd", "admin").empty());  // a dry run changes nothing
}

TEST_F(UsersAgent, UsersWithoutDefaultWarnInValidateAndTheJournal) {
  const std::string ud = "#cloud-config\nusers:\n  - name: bob\n";
  auto v = run({amiboot_binary(), "validate", "-"}, {}, ud);
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("user-data:3:3: warning: users: no 'default' entry"), std::string::npos)
      << v.out;
  imds.set_user_data(ud);
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("users: no 'default' entry"), std::string::npos) << r.err;
  EXPECT_TRUE(entry("etc/passwd", "admin").empty());
  EXPECT_FALSE(entry("etc/passwd", "bob").empty());
  // The IMDS key reaches root only, behind the message (cloud-init's "NONE").
  EXPECT_NE(read_file(root / "root/.ssh/authorized_keys").find("the user \\\"NONE\\\""),
            std::string::npos)
      << read_file(root / "root/.ssh/authorized_keys");
}

TEST_F(UsersAgent, ChpasswdSetsHashesTextAndRandomPasswordsAndExpiresThem) {
  imds.set_user_data(std::string(R"(#cloud-config
users: [default, bob, carol]
chpasswd:
  users:
    - {name: bob, password: ')") +
                     kBobHash + R"('}
    - {name: admin, type: text, password: 'Admin pass 1'}
    - {name: carol, type: RANDOM}
ssh_pwauth: true
)");
  add_image_host_keys(root.path());
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("init", "set_passwords")["result"], "ok") << r.err;
  auto bob = entry("etc/shadow", "bob");
  EXPECT_EQ(bob.at(1), kBobHash);  // the hash given, as given
  EXPECT_EQ(bob.at(2), "0");       // expire (default true): a new password at the next login
  auto admin = entry("etc/shadow", "admin");
  ASSERT_EQ(admin.at(1).rfind("$6$", 0), 0u) << admin.at(1);  // clear text hashed by chpasswd
  EXPECT_EQ(run({"perl", "-e", "print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 'yes' : 'no'",
                 "Admin pass 1", admin.at(1)})
                .out,
            "yes");
  EXPECT_EQ(admin.at(2), "0");
  auto carol = entry("etc/shadow", "carol");
  ASSERT_EQ(carol.at(1).rfind("$6$", 0), 0u) << carol.at(1);  // a random one, not locked
  EXPECT_EQ(carol.at(2), "0");
  // Passwords and hashes nowhere but in the shadow file: not the journal
  // (stderr here), the console (stdout: a random one goes to the terminal
  // only), the status or the result.
  for (const std::string& text : {r.err, r.out, read_file(root / "run/amiboot/status.json"),
                                  read_file(root / "run/amiboot/result.json")}) {
    EXPECT_EQ(text.find("Admin pass"), std::string::npos) << text;
    EXPECT_EQ(text.find("saltsaltsalt"), std::string::npos) << text;
    EXPECT_EQ(text.find("Set the following"), std::string::npos) << text;
  }
  EXPECT_NE(r.err.find("random passwords set for carol"), std::string::npos) << r.err;
  // ssh_pwauth, the one thing that turns password logins on.
  EXPECT_EQ(read_file(root / "etc/ssh/sshd_config.d/50-amiboot.conf"),
            "# From ssh_pwauth in the user data (amiboot).\nPasswordAuthentication yes\n");
  // The dry run shows the commands, never what goes to their stdin.
  fs::remove_all(root / "var/lib/amiboot");
  reboot();
  auto dry = run_agent({"--dry-run", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out.find("Admin pass"), std::string::npos);
  EXPECT_EQ(dry.out.find("saltsaltsalt"), std::string::npos);
  EXPECT_NE(dry.out.find("set random passwords for carol"), std::string::npos) << dry.out;
}

TEST_F(UsersAgent, ChpasswdWithoutExpiryAndTheDefaultUsersPassword) {
  imds.set_user_data("#cloud-config\npassword: 'Admin pass 2'\nchpasswd: {expire: false}\n");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto admin = entry("etc/shadow", "admin");
  ASSERT_EQ(admin.at(1).rfind("$6$", 0), 0u) << admin.at(1);
  EXPECT_NE(admin.at(2), "0");  // today, as chpasswd left it
  EXPECT_NE(admin.at(2), "");
  EXPECT_EQ(r.err.find("Admin pass"), std::string::npos) << r.err;
}

// `text` as a YAML block scalar under a key indented by `indent`.
std::string yaml_block(const std::string& text, int indent) {
  std::string out = "|\n";
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out += std::string(static_cast<std::size_t>(indent), ' ') + line + "\n";
  }
  return out;
}

TEST_F(UsersAgent, SshKeysAreInstalledInsteadOfGeneratedWithModesAndCertificates) {
  add_image_host_keys(root.path());
  // Keys made for this test only, and a host certificate from a test CA.
  TempDir keys;
  for (const char* type : {"ed25519", "ecdsa"}) {
    ASSERT_EQ(run({"ssh-keygen", "-q", "-t", type, "-N", "", "-C", "test", "-f",
                   keys / (std::string(type) + "_key")})
                  .exit_code,
              0);
  }
  ASSERT_EQ(run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keys / "ca"}).exit_code, 0);
  ASSERT_EQ(run({"ssh-keygen", "-q", "-s", keys / "ca", "-I", "test-host", "-h", "-n",
                 "test.example", keys / "ed25519_key.pub"})
                .exit_code,
            0);
  std::string ed_private = read_file(keys / "ed25519_key");
  std::string ed_public = read_file(keys / "ed25519_key.pub");
  std::string ed_cert = read_file(keys / "ed25519_key-cert.pub");
  std::string ec_private = read_file(keys / "ecdsa_key");
  imds.set_user_data("#cloud-config\nssh_keys:\n  ed25519_private: " + yaml_block(ed_private, 4) +
                     "  ed25519_public: " + ed_public + "  ed25519_certificate: " + ed_cert +
                     "  ecdsa_private: " + yaml_block(ec_private, 4) +
                     "ssh_key_console_blacklist: [ecdsa]\n");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("init", "ssh_host_keys")["result"], "ok") << r.err;

  // The given keys, as given, private ones 0600 root, public ones 0644.
  EXPECT_EQ(read_file(root / "etc/ssh/ssh_host_ed25519_key"), ed_private);
  EXPECT_EQ(read_file(root / "etc/ssh/ssh_host_ed25519_key.pub"), ed_public);
  EXPECT_EQ(read_file(root / "etc/ssh/ssh_host_ed25519_key-cert.pub"), ed_cert);
  EXPECT_EQ(read_file(root / "etc/ssh/ssh_host_ecdsa_key"), ec_private);
  for (const char* f : {"etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ecdsa_key"}) {
    EXPECT_EQ(stat_of(f).st_mode & 07777, 0600u) << f;
    EXPECT_EQ(stat_of(f).st_uid, 0u) << f;
  }
  for (const char* f : {"etc/ssh/ssh_host_ed25519_key.pub", "etc/ssh/ssh_host_ed25519_key-cert.pub",
                        "etc/ssh/ssh_host_ecdsa_key.pub"}) {
    EXPECT_EQ(stat_of(f).st_mode & 07777, 0644u) << f;
  }
  // The ecdsa public half derived from its private key (ssh-keygen -y).
  auto words = [](const std::string& line) {
    std::istringstream in(line);
    std::string a, b;
    in >> a >> b;
    return a + " " + b;
  };
  EXPECT_EQ(words(read_file(root / "etc/ssh/ssh_host_ecdsa_key.pub")),
            words(read_file(keys / "ecdsa_key.pub")));
  // The image's rsa key is gone and none is generated: ssh_keys replaces
  // generation, as in cloud-init.
  EXPECT_FALSE(exists(root / "etc/ssh/ssh_host_rsa_key"));
  EXPECT_FALSE(exists(root / "etc/ssh/ssh_host_rsa_key.pub"));
  EXPECT_EQ(read_file(root / "etc/ssh/sshd_config.d/50-amiboot-host-certificates.conf"),
            "# Host certificates from ssh_keys in the user data (amiboot).\n"
            "HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub\n");
  EXPECT_EQ(stat_of("etc/ssh/sshd_config.d/50-amiboot-host-certificates.conf").st_mode & 07777,
            0600u);
  // Both fingerprints on the console; the ecdsa key itself left out.
  std::vector<std::string> fps;
  for (const char* pub : {"ssh_host_ecdsa_key.pub", "ssh_host_ed25519_key.pub"}) {
    std::string line = run({"ssh-keygen", "-l", "-f", root / ("etc/ssh/" + std::string(pub))}).out;
    fps.push_back(line.substr(0, line.find('\n')));
  }
  EXPECT_NE(r.out.find("-----BEGIN SSH HOST KEY FINGERPRINTS-----\n" + fps[0] + "\n" + fps[1] +
                       "\n-----END SSH HOST KEY FINGERPRINTS-----\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("-----BEGIN SSH HOST KEY KEYS-----\n" + ed_public +
                       "-----END SSH HOST KEY KEYS-----\n"),
            std::string::npos)
      << r.out;
  // Private keys nowhere but in their files.
  for (const std::string& text : {r.err, r.out, read_file(root / "run/amiboot/status.json")}) {
    EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos) << text;
  }
}

TEST_F(UsersAgent, ABadPrivateKeyRejectsTheConfigAndTheImageKeysAreReplacedAsUsual) {
  add_image_host_keys(root.path());
  imds.set_user_data(
      "#cloud-config\nssh_keys:\n  rsa_private: not a key at all\nruncmd: [touch /ran]\n");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("user-data:3:16: ssh_keys.rsa_private: expected a private key block"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("not a key at all"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(root / "ran"));
  EXPECT_EQ(host_key_fingerprints(root.path()).size(), 3u);  // generated, as without user data
}

// The two executor additions these modules rely on, against a real root.
TEST(UsersActions, MakeDirSetsModeAndOwnerAndRefusesASymlink) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to chown";
  }
  TempDir root;
  write_file(root / "etc/passwd",
             "root:x:0:0::/root:/bin/sh\nbob:x:1234:2345::/home/bob:/bin/sh\n");
  HostSystem system(root.path());
  ExecContext ctx{system, "i-test", {}};
  auto outcome = execute({MakeDir{"/home/bob/.ssh", 0700, "bob", "keys"}}, ctx);
  ASSERT_TRUE(outcome.ok()) << outcome.errors[0];
  struct stat st {};
  ASSERT_EQ(lstat((root / "home/bob/.ssh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 2345u);
  ASSERT_EQ(lstat((root / "home").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);  // parents stay root's
  // Existing: mode and owner are corrected.
  chmod((root / "home/bob/.ssh").c_str(), 0777);
  ASSERT_TRUE(execute({MakeDir{"/home/bob/.ssh", 0700, "bob", "keys"}}, ctx).ok());
  ASSERT_EQ(lstat((root / "home/bob/.ssh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // A link planted in the home must not redirect the chown.
  fs::create_directories(root / "home/eve");
  fs::create_directory_symlink("/etc", root / "home/eve/.ssh");
  auto refused = execute({MakeDir{"/home/eve/.ssh", 0700, "bob", "keys"}}, ctx);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.errors[0].find("not a folder"), std::string::npos) << refused.errors[0];
  ASSERT_EQ(lstat((root / "etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
}

// A mount point's folder, as `mkdir -p` made it before (without a process):
// missing folders made 0755 root, an existing one left as the image has it,
// a symlink followed inside the root.
TEST(UsersActions, MakeDirIfMissingIsMkdirDashPInsideTheRoot) {
  TempDir root;
  HostSystem system(root.path());
  ExecContext ctx{system, "i-test", {}};
  auto made = execute({MakeDir{"/mnt/data/disk", 0755, "root", "mount point", true}}, ctx);
  ASSERT_TRUE(made.ok()) << made.errors[0];
  struct stat st {};
  for (const char* dir : {"mnt", "mnt/data", "mnt/data/disk"}) {
    ASSERT_EQ(lstat((root / dir).c_str(), &st), 0) << dir;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << dir;
    EXPECT_EQ(st.st_mode & 07777, 0755u) << dir;
    EXPECT_EQ(st.st_uid, geteuid()) << dir;
  }
  // The image's own mount point keeps its mode (and owner).
  fs::create_directories(root / "srv/www");
  chmod((root / "srv/www").c_str(), 0750);
  ASSERT_TRUE(execute({MakeDir{"/srv/www", 0755, "root", "mount point", true}}, ctx).ok());
  ASSERT_EQ(lstat((root / "srv/www").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  // An absolute link means the image's root: followed there, not to the host's.
  fs::create_directories(root / "real");
  fs::create_directory_symlink("/real", root / "link");
  ASSERT_TRUE(execute({MakeDir{"/link/vol", 0755, "root", "mount point", true}}, ctx).ok());
  EXPECT_TRUE(fs::is_directory(root / "real/vol"));
  // A file where the folder should be is an error, as mkdir -p says.
  write_file(root / "file", "x");
  auto refused = execute({MakeDir{"/file", 0755, "root", "mount point", true}}, ctx);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.errors[0].find("mount point: "), std::string::npos) << refused.errors[0];
}

TEST(UsersActions, ARequiredWriteThatFailsItsCheckStopsTheModule) {
  TempDir root;
  HostSystem system(root.path());
  ExecContext ctx{system, "i-test", {}};
  WriteFile checked{
      "/etc/sudoers.d/x", "bad\n", 0440, "root", false, "users[1].sudo (user-data:5:11)"};
  checked.check_argv = {"false"};
  checked.required = true;
  auto outcome =
      execute({checked, WriteFile{"/etc/after", "x", 0644, "root", false, "after"}}, ctx);
  ASSERT_EQ(outcome.errors.size(), 2u);
  EXPECT_EQ(outcome.errors[0].rfind("users[1].sudo (user-data:5:11): false rejected", 0), 0u)
      << outcome.errors[0];
  EXPECT_EQ(outcome.errors[1], "skipped the remaining 1 action(s) of this module");
  EXPECT_FALSE(exists(root / "etc/sudoers.d/x"));
  EXPECT_FALSE(exists(root / "etc/after"));
  // Not required: the next action still runs.
  checked.required = false;
  outcome = execute({checked, WriteFile{"/etc/after", "x", 0644, "root", false, "after"}}, ctx);
  EXPECT_EQ(outcome.errors.size(), 1u);
  EXPECT_TRUE(exists(root / "etc/after"));
}

}  // namespace
}  // namespace amiboot::testing
