// SPDX-License-Identifier: Apache-2.0
// users: decoding of cloud-init's users/groups shapes and the exact actions
// planned against a fake instance.
#include "modules/users.h"

#include <gtest/gtest.h>

#include <map>

#include "agent/cloud_config.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

constexpr const char* kImdsKey = "ssh-ed25519 AAAAC3NzaImdsKey imds-key";

constexpr const char* kDebianPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
// Debian's default user groups, all but netdev.
constexpr const char* kDebianGroup =
    "root:x:0:\nadm:x:4:\naudio:x:29:\ncdrom:x:24:\ndialout:x:20:\ndip:x:30:\nfloppy:x:25:\n"
    "plugdev:x:46:\nsudo:x:27:\nvideo:x:44:\nusers:x:100:\n";

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml) : ModuleFixture(yaml) {
    metadata.public_keys = {std::string(kImdsKey) + "\n"};
    system.files["/etc/os-release"] = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
    system.files["/etc/passwd"] = kDebianPasswd;
    system.files["/etc/group"] = kDebianGroup;
    system.files["/etc/shadow"] = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";
    system.programs = {"visudo"};
  }
};

RunCommand tool(std::vector<std::string> argv, std::string label,
                std::string root_option = "--root") {
  RunCommand r{std::move(argv), std::move(label)};
  r.root_option = std::move(root_option);
  return r;
}

std::string dump(const std::vector<Action>& actions) {
  std::string out;
  for (const auto& a : actions) {
    out += "  " + describe(a) + "  [" + action_to_json(a).value("label", "") + "]\n";
  }
  return out;
}

const std::string kRootOpts =
    "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command=\"echo 'Please login as "
    "the user \\\"admin\\\" rather than the user \\\"root\\\".';echo;sleep 10;exit 142\"";

TEST(Users, RepresentativeConfigPlansExactActions) {
  Fixture f(
      "users:\n"
      "  - default\n"
      "  - name: bob\n"
      "    gecos: Bob B\n"
      "    groups: [adm, devs]\n"
      "    shell: /bin/bash\n"
      "    sudo: ALL=(ALL) NOPASSWD:ALL\n"
      "    ssh_authorized_keys: [ssh-ed25519 AAAAbob bob@laptop]\n"
      "groups:\n"
      "  - ops: [bob]\n"
      "ssh_authorized_keys: [ssh-rsa AAAAextra extra@host]\n");
  auto plan = f.plan("users");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  const std::string distro_sudo =
      "default user (distribution defaults for /etc/os-release ID=debian)";
  const std::string bob_sudo = "users[1].sudo (user-data:7:11)";
  WriteFile sudoers{kSudoersFile,
                    "# Sudo rules of the users amiboot created (cloud-init's users[].sudo).\n"
                    "# Rewritten on each new instance.\n"
                    "\n# User rules for admin\nadmin ALL=(ALL) NOPASSWD:ALL\n"
                    "\n# User rules for bob\nbob ALL=(ALL) NOPASSWD:ALL\n",
                    0440,
                    "root:root",
                    false,
                    "sudo rules of " + distro_sudo + ", " + bob_sudo};
  // One visudo for the file (not one per user), which knows whose rule
  // each line is.
  sudoers.check_argv = {"visudo", "-cf", "{}"};
  sudoers.check_line_sources = {{5, distro_sudo}, {8, bob_sudo}};
  sudoers.required = true;
  std::vector<Action> expected = {
      sudoers,
      tool({"groupadd", "ops"}, "groups: groupadd ops"),
      tool({"groupadd", "netdev"}, "default user admin: groupadd netdev"),
      tool({"useradd", "--comment", "Debian", "--groups",
            "adm,audio,cdrom,dialout,dip,floppy,netdev,plugdev,sudo,video", "--shell", "/bin/bash",
            "--create-home", "admin"},
           "default user admin: useradd"),
      tool({"groupadd", "devs"}, "users[1] (bob): groupadd devs"),
      tool({"useradd", "--comment", "Bob B", "--groups", "adm,devs", "--shell", "/bin/bash",
            "--create-home", "bob"},
           "users[1] (bob): useradd"),
      tool({"gpasswd", "-a", "bob", "ops"}, "groups: add bob to group ops", "-Q"),
      MakeDir{"/home/admin/.ssh", 0700, "admin", "default user admin: ~admin/.ssh"},
      WriteFile{"/home/admin/.ssh/authorized_keys",
                std::string(kImdsKey) + "\nssh-rsa AAAAextra extra@host\n", 0600, "admin", false,
                "default user admin: authorized_keys (2 keys)"},
      MakeDir{"/home/bob/.ssh", 0700, "bob", "users[1] (bob): ~bob/.ssh"},
      WriteFile{"/home/bob/.ssh/authorized_keys", "ssh-ed25519 AAAAbob bob@laptop\n", 0600, "bob",
                false, "users[1] (bob): authorized_keys (1 key)"},
      MakeDir{"/root/.ssh", 0700, "root", "disable_root: ~root/.ssh"},
      WriteFile{"/root/.ssh/authorized_keys",
                kRootOpts + " " + kImdsKey + "\n" + kRootOpts + " ssh-rsa AAAAextra extra@host\n",
                0600, "root", false, "disable_root: authorized_keys (2 keys)"},
  };
  EXPECT_EQ(plan.actions, expected) << dump(plan.actions);
  EXPECT_EQ(plan.summary, "default user admin; created admin, bob");
}

TEST(Users, OneVisudoCheckForTheSudoersFileHoweverManyUsersHaveRules) {
  Fixture f(
      "users:\n"
      "  - default\n"
      "  - {name: bob, sudo: ['ALL=(ALL) ALL', 'ALL=(root) /usr/bin/journalctl']}\n"
      "  - {name: carol, sudo: ALL=(ALL) NOPASSWD:ALL}\n");
  auto plan = f.plan("users");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  int commands = 0, checked_files = 0;
  const WriteFile* sudoers = nullptr;
  for (const auto& a : plan.actions) {
    if (const auto* r = std::get_if<RunCommand>(&a); r != nullptr && r->argv[0] == "visudo") {
      ++commands;
    }
    if (const auto* w = std::get_if<WriteFile>(&a); w != nullptr && !w->check_argv.empty()) {
      ++checked_files;
      sudoers = w;
    }
  }
  EXPECT_EQ(commands, 0) << dump(plan.actions);
  ASSERT_EQ(checked_files, 1) << dump(plan.actions);
  EXPECT_EQ(sudoers->check_argv, (std::vector<std::string>{"visudo", "-cf", "{}"}));
  // Each rule's line, and only those, names where it was written.
  std::vector<std::string> lines = {""};
  for (char c : sudoers->content) {
    if (c == '\n') {
      lines.emplace_back();
    } else {
      lines.back().push_back(c);
    }
  }
  std::map<int, std::string> expected = {
      {5, "default user (distribution defaults for /etc/os-release ID=debian)"},
      {8, "users[1].sudo (user-data:3:23)"},
      {9, "users[1].sudo (user-data:3:23)"},
      {12, "users[2].sudo (user-data:4:25)"}};
  EXPECT_EQ(sudoers->check_line_sources, expected);
  EXPECT_EQ(lines.at(4), "admin ALL=(ALL) NOPASSWD:ALL");
  EXPECT_EQ(lines.at(7), "bob ALL=(ALL) ALL");
  EXPECT_EQ(lines.at(8), "bob ALL=(root) /usr/bin/journalctl");
  EXPECT_EQ(lines.at(11), "carol ALL=(ALL) NOPASSWD:ALL");
}

TEST(Users, NoUsersKeyMeansTheDefaultUserWithTheImdsKeys) {
  Fixture f("{}");
  auto plan = f.plan("users");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  bool useradd = false, keys = false;
  for (const auto& a : plan.actions) {
    if (const auto* r = std::get_if<RunCommand>(&a); r && r->argv[0] == "useradd") {
      useradd = r->argv.back() == "admin";
    }
    if (const auto* w = std::get_if<WriteFile>(&a);
        w && w->path == "/home/admin/.ssh/authorized_keys") {
      keys = w->content == std::string(kImdsKey) + "\n";
    }
  }
  EXPECT_TRUE(useradd) << dump(plan.actions);
  EXPECT_TRUE(keys) << dump(plan.actions);
}

TEST(Users, AllowPublicSshKeysFalseKeepsTheImdsKeysOutButNotTheConfiguredOnes) {
  const std::string top = "ssh-rsa AAAAtop top@host";
  const std::string bob = "ssh-ed25519 AAAAbob bob@laptop";
  auto written = [](const PlanResult& plan) {
    std::map<std::string, std::string> files;
    for (const auto& a : plan.actions) {
      if (const auto* w = std::get_if<WriteFile>(&a)) {
        files[w->path] = w->content;
      }
    }
    return files;
  };
  const std::string yaml = "users: [default, {name: bob, ssh_authorized_keys: [" + bob +
                           "]}]\nssh_authorized_keys: [" + top + "]\n";
  Fixture off("allow_public_ssh_keys: false\n" + yaml);
  auto plan = off.plan("users");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  auto files = written(plan);
  EXPECT_EQ(files["/home/admin/.ssh/authorized_keys"], top + "\n") << dump(plan.actions);
  EXPECT_EQ(files["/home/bob/.ssh/authorized_keys"], bob + "\n") << dump(plan.actions);
  ASSERT_TRUE(files.contains("/root/.ssh/authorized_keys")) << dump(plan.actions);
  EXPECT_EQ(files["/root/.ssh/authorized_keys"].find("imds-key"), std::string::npos);

  // The default (true), spelled out: the IMDS key too.
  Fixture on("allow_public_ssh_keys: true\n" + yaml);
  files = written(on.plan("users"));
  EXPECT_EQ(files["/home/admin/.ssh/authorized_keys"], std::string(kImdsKey) + "\n" + top + "\n");

  // Nothing but the IMDS key to give: no authorized_keys at all.
  Fixture only("allow_public_ssh_keys: false\n");
  files = written(only.plan("users"));
  EXPECT_FALSE(files.contains("/home/admin/.ssh/authorized_keys"));
  EXPECT_FALSE(files.contains("/root/.ssh/authorized_keys"));

  Fixture bad("allow_public_ssh_keys: maybe\n");
  plan = bad.plan("users");
  ASSERT_TRUE(has_errors(plan.diagnostics));
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:1:24: allow_public_ssh_keys: expected a boolean (true or false), got a "
            "string");
}

TEST(Users, GroupsFiveIsAnErrorWithKeyPathAndLineAndNothingIsPlanned) {
  Fixture f("users:\n  - default\n  - name: bob\n    groups: 5\n");
  Diagnostics d;
  f.check("users", d);
  ASSERT_EQ(d.size(), 1u) << testing::formatted(d);
  EXPECT_EQ(d[0].format(),
            "user-data:4:13: users[1].groups: expected a comma-separated string or a list of group "
            "names, got an integer");
  auto plan = f.plan("users");
  EXPECT_TRUE(has_errors(plan.diagnostics));
  EXPECT_TRUE(plan.actions.empty()) << dump(plan.actions);
}

TEST(Users, SchemaErrorRejectsTheWholePartSoTheImageDefaultStays) {
  // The decoder is what cloud_config asks: a bad part is left out whole.
  std::vector<Part> parts = {{PartType::CloudConfig, "", "user-data",
                              "#cloud-config\nusers:\n  - name: bob\n    groups: 5\n"
                              "runcmd: [echo hi]\n"}};
  Diagnostics d;
  auto merged = merge_cloud_config(Value{}, parts, d);
  EXPECT_EQ(merged.rejected_parts, 1);
  EXPECT_EQ(merged.config.get("users"), nullptr);
  EXPECT_EQ(merged.config.get("runcmd"), nullptr);
  EXPECT_NE(testing::formatted(d).find("user-data:4:13: users[0].groups: expected"),
            std::string::npos)
      << testing::formatted(d);
}

TEST(Users, BadFieldsNameTheirKey) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const Case& c : {
           Case{"users:\n  - name: bob\n    sudo: true\n",
                "user-data:3:11: users[0].sudo: expected a sudo rule, a list of rules, or false, "
                "got a boolean"},
           Case{"users:\n  - name: bob\n    sudo: \"ALL=(ALL) ALL\\nmallory ALL=(ALL) ALL\"\n",
                "user-data:3:11: users[0].sudo: must be a single line"},
           Case{"users:\n  - name: 'bad name'\n",
                "user-data:2:11: users[0].name: 'bad name' is "
                "not a valid user name (letters, digits, '_', "
                "'-', '.'; not starting with '-')"},
           Case{"users:\n  - name: bob\n    uid: -4\n",
                "user-data:3:10: users[0].uid: expected a user id between 0 and 4294967294, got "
                "'-4'"},
           Case{"users:\n  - name: bob\n    expiredate: 31/12/2030\n",
                "user-data:3:17: users[0].expiredate: expected a date as YYYY-MM-DD, got "
                "'31/12/2030'"},
           Case{"users:\n  - name: bob\n    shell: bash\n",
                "user-data:3:12: users[0].shell: expected an absolute path, got 'bash'"},
           Case{"users:\n  - name: bob\n    lock_passwd: maybe\n",
                "user-data:3:18: users[0].lock_passwd: expected a boolean (true or false), got a "
                "string"},
           Case{"users:\n  - name: bob\n    plain_text_passwd: 123456\n",
                "user-data:3:24: users[0].plain_text_passwd: expected a string (quote a numeric "
                "password), got an integer"},
           Case{"groups: [{admins: 5}]\n",
                "user-data:1:19: groups[0].admins: expected a comma-separated string or a list of "
                "group names, got an integer"},
       }) {
    Fixture f(c.yaml);
    Diagnostics d;
    f.check("users", d);
    ASSERT_TRUE(has_errors(d)) << c.yaml;
    EXPECT_EQ(d[0].format(), c.message) << c.yaml;
  }
}

TEST(Users, StringFormMeansThatUserOnlyAndWarnsAboutTheKeys) {
  Fixture f("users: bob\n");
  Diagnostics d;
  f.check("users", d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].severity, Diagnostic::Severity::Warning);
  EXPECT_EQ(d[0].path, "users");
  EXPECT_EQ(d[0].pos.line, 1);
  EXPECT_NE(d[0].message.find("no 'default' entry"), std::string::npos);
  auto plan = f.plan("users");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  std::string none_opts = kRootOpts;
  none_opts.replace(none_opts.find("admin"), 5, "NONE");
  std::vector<Action> expected = {
      tool({"useradd", "--create-home", "bob"}, "users (bob): useradd"),
      MakeDir{"/root/.ssh", 0700, "root", "disable_root: ~root/.ssh"},
      WriteFile{"/root/.ssh/authorized_keys", none_opts + " " + kImdsKey + "\n", 0600, "root",
                false, "disable_root: authorized_keys (1 key)"},
  };
  EXPECT_EQ(plan.actions, expected) << dump(plan.actions);
}

TEST(Users, ListWithoutDefaultWarnsInValidateToo) {
  std::vector<Part> parts = {
      {PartType::CloudConfig, "", "user-data", "#cloud-config\nusers:\n  - name: bob\n"}};
  Diagnostics d;
  merge_cloud_config(Value{}, parts, d);
  ASSERT_EQ(d.size(), 1u) << testing::formatted(d);
  EXPECT_EQ(d[0].format().rfind("user-data:3:3: warning: users: no 'default' entry", 0), 0u)
      << d[0].format();
}

// Applies WriteFiles and user commands to the fake, as the executor would.
void apply_to_fake(const std::vector<Action>& actions, testing::FakeSystemView& system) {
  int next_id = 1000;
  for (const auto& a : actions) {
    if (const auto* w = std::get_if<WriteFile>(&a)) {
      system.files[w->path] = w->content;
    } else if (const auto* r = std::get_if<RunCommand>(&a)) {
      const auto& argv = r->argv;
      if (argv[0] == "groupadd") {
        system.files["/etc/group"] += argv[1] + ":x:" + std::to_string(next_id++) + ":\n";
      } else if (argv[0] == "useradd") {
        const std::string& name = argv.back();
        std::string id = std::to_string(next_id++);
        system.files["/etc/passwd"] += name + ":x:" + id + ":" + id + "::/home/" + name + ":\n";
        system.files["/etc/shadow"] += name + ":!:20000:0:99999:7:::\n";
        for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
          if (argv[i] == "--groups") {
            std::string& groups = system.files["/etc/group"];
            std::size_t start = 0;
            std::string list = argv[i + 1] + ",";
            for (std::size_t comma; (comma = list.find(',', start)) != std::string::npos;
                 start = comma + 1) {
              std::string g = list.substr(start, comma - start);
              std::size_t at = groups.find("\n" + g + ":");
              at = groups.find('\n', at + 1);
              bool empty = groups[at - 1] == ':';
              groups.insert(at, (empty ? "" : ",") + name);
            }
          }
        }
      } else if (argv[0] == "gpasswd") {
        std::string& groups = system.files["/etc/group"];
        std::size_t at = groups.find("\n" + argv[3] + ":");
        at = groups.find('\n', at + 1);
        groups.insert(at, (groups[at - 1] == ':' ? "" : ",") + argv[2]);
      }
    }
  }
}

TEST(Users, SecondPlanAfterApplyingIsEmpty) {
  Fixture f(
      "users:\n  - default\n  - name: bob\n    groups: [adm, devs]\n    sudo: [ALL=(ALL) ALL]\n"
      "    ssh_authorized_keys: [ssh-ed25519 AAAAbob bob]\n"
      "groups: {ops: [bob, admin]}\nssh_authorized_keys: [ssh-rsa AAAAextra extra]\n");
  auto first = f.plan("users");
  ASSERT_FALSE(has_errors(first.diagnostics)) << testing::formatted(first.diagnostics);
  ASSERT_FALSE(first.actions.empty());
  apply_to_fake(first.actions, f.system);
  auto second = f.plan("users");
  EXPECT_FALSE(has_errors(second.diagnostics)) << testing::formatted(second.diagnostics);
  EXPECT_TRUE(second.actions.empty()) << dump(second.actions) << f.system.files["/etc/group"];
}

TEST(Users, ExistingUserIsNotAddedAgainButGetsItsMissingGroupsAndLock) {
  Fixture f("users:\n  - name: bob\n    groups: [adm, sudo]\n");
  f.system.files["/etc/passwd"] += "bob:x:1000:1000::/home/bob:/bin/bash\n";
  f.system.files["/etc/group"] = "root:x:0:\nadm:x:4:bob\nsudo:x:27:\nbob:x:1000:\n";
  f.system.files["/etc/shadow"] += "bob:$6$salt$hash:20000:0:99999:7:::\n";
  auto plan = f.plan("users");
  std::vector<Action> expected = {
      tool({"gpasswd", "-a", "bob", "sudo"}, "users[0] (bob): add bob to group sudo", "-Q"),
      tool({"usermod", "--lock", "bob"}, "users[0] (bob): lock_passwd"),
  };
  // users[0] has no default entry: root still gets the IMDS key.
  ASSERT_GE(plan.actions.size(), 2u) << dump(plan.actions);
  EXPECT_EQ(std::vector<Action>(plan.actions.begin(), plan.actions.begin() + 2), expected)
      << dump(plan.actions);
}

TEST(Users, PasswordsTravelOnlyOnStdinNeverInArgvLabelsOrDryRun) {
  const std::string hash = "$6$rounds=4096$saltsalt$Secret/Hash/Value";
  Fixture f("users:\n  - default\n  - name: carol\n    passwd: '" + hash +
            "'\n    lock_passwd: false\n"
            "  - name: dave\n    hashed_passwd: '" +
            hash + "2'\n  - name: erin\n    plain_text_passwd: 'S3cret pass'\n");
  auto plan = f.plan("users");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  std::string shown;
  std::vector<std::string> inputs;
  for (const auto& a : plan.actions) {
    shown += describe(a) + action_to_json(a).dump() + "\n";
    if (const auto* r = std::get_if<RunCommand>(&a); r && r->argv[0] == "chpasswd") {
      inputs.push_back(r->input);
      for (const auto& arg : r->argv) {
        shown += arg + " ";
      }
    }
  }
  EXPECT_EQ(shown.find("Secret"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("S3cret"), std::string::npos) << shown;
  std::vector<std::string> expected_inputs = {"carol:" + hash + "\n", "dave:" + hash + "2\n",
                                              "erin:S3cret pass\n"};
  EXPECT_EQ(inputs, expected_inputs);
  // The hash goes in as a hash; the plain one is hashed by chpasswd (PAM on
  // an instance, SHA-512 under --root where PAM is not in the sandbox).
  for (const auto& a : plan.actions) {
    if (const auto* r = std::get_if<RunCommand>(&a); r && r->argv[0] == "chpasswd") {
      if (r->input.rfind("erin:", 0) == 0) {
        EXPECT_EQ(r->argv, (std::vector<std::string>{"chpasswd"}));
        EXPECT_EQ(r->root_option, "--root");
        EXPECT_EQ(r->root_extra_args, (std::vector<std::string>{"--crypt-method", "SHA512"}));
      } else {
        EXPECT_EQ(r->argv, (std::vector<std::string>{"chpasswd", "--encrypted"}));
      }
    }
  }
  // carol: lock_passwd false; dave and erin: locked after the password is set
  // (cloud-init's default), so only a later lock_passwd: false enables it.
  std::vector<std::string> locked;
  for (const auto& a : plan.actions) {
    if (const auto* r = std::get_if<RunCommand>(&a); r && r->argv[0] == "usermod") {
      locked.push_back(r->argv.back());
    }
  }
  EXPECT_EQ(locked, (std::vector<std::string>{"dave", "erin"}));
}

TEST(Users, HashedPasswordAlreadyInShadowIsNotSetAgain) {
  Fixture f("users:\n  - name: dave\n    hashed_passwd: '$6$s$h'\n");
  f.system.files["/etc/passwd"] += "dave:x:1000:1000::/home/dave:/bin/sh\n";
  f.system.files["/etc/shadow"] += "dave:!$6$s$h:20000:0:99999:7:::\n";
  auto plan = f.plan("users");
  for (const auto& a : plan.actions) {
    const auto* r = std::get_if<RunCommand>(&a);
    EXPECT_TRUE(r == nullptr || (r->argv[0] != "chpasswd" && r->argv[0] != "usermod"))
        << dump(plan.actions);
  }
}

TEST(Users, EveryUserFieldReachesUseradd) {
  Fixture f(
      "users:\n"
      "  - name: svc\n"
      "    gecos: Service, Inc.\n"
      "    primary_group: services\n"
      "    groups: users\n"
      "    shell: /usr/sbin/nologin\n"
      "    uid: 1500\n"
      "    system: true\n"
      "    homedir: /srv/svc\n"
      "    expiredate: '2030-12-31'\n"
      "  - name: nohome\n"
      "    no_create_home: true\n"
      "    lock-passwd: false\n");
  auto plan = f.plan("users");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {
      tool({"groupadd", "services"}, "users[0] (svc): groupadd services"),
      tool({"useradd", "--comment", "Service, Inc.", "--home-dir", "/srv/svc", "--gid", "services",
            "--uid", "1500", "--groups", "users", "--shell", "/usr/sbin/nologin", "--expiredate",
            "2030-12-31", "--system", "--no-create-home", "svc"},
           "users[0] (svc): useradd"),
      tool({"useradd", "--no-create-home", "nohome"}, "users[1] (nohome): useradd"),
  };
  ASSERT_GE(plan.actions.size(), 3u) << dump(plan.actions);
  EXPECT_EQ(std::vector<Action>(plan.actions.begin(), plan.actions.begin() + 3), expected)
      << dump(plan.actions);
}

TEST(Users, DefaultUserComesFromSystemInfoOverTheDistribution) {
  Fixture f(
      "system_info:\n  default_user:\n    name: cloud\n    groups: [wheel]\n"
      "users:\n  - default\n  - name: cloud\n    groups: [extra]\n    uid: 2000\n"
      "  - name: default\n    shell: /bin/zsh\n");
  f.system.files["/etc/os-release"] = "ID=ubuntu\n";
  f.system.files["/etc/group"] += "wheel:x:10:\nextra:x:11:\n";
  auto plan = f.plan("users");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  const RunCommand* useradd = nullptr;
  for (const auto& a : plan.actions) {
    if (const auto* r = std::get_if<RunCommand>(&a); r && r->argv[0] == "useradd") {
      useradd = r;
    }
  }
  ASSERT_NE(useradd, nullptr) << dump(plan.actions);
  // Ubuntu's gecos and shell stay (cloud-init lets the distribution's
  // settings win over a `default` entry); uid only the entry gives; groups
  // are the union.
  EXPECT_EQ(useradd->argv, (std::vector<std::string>{"useradd", "--comment", "Ubuntu", "--uid",
                                                     "2000", "--groups", "extra,wheel", "--shell",
                                                     "/bin/bash", "--create-home", "cloud"}));
}

TEST(Users, OldStyleUserKeyNamesTheDefaultUser) {
  Fixture f("user: {name: cloud, gecos: Cloud}\nusers: [bob]\n");
  auto plan = f.plan("users");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  std::vector<std::string> created;
  for (const auto& a : plan.actions) {
    if (const auto* r = std::get_if<RunCommand>(&a); r && r->argv[0] == "useradd") {
      created.push_back(r->argv.back());
      if (r->argv.back() == "cloud") {
        EXPECT_EQ(r->argv[1], "--comment");
        EXPECT_EQ(r->argv[2], "Cloud");  // `user:` wins over the distribution's "Debian"
      }
    }
  }
  EXPECT_EQ(created, (std::vector<std::string>{"cloud", "bob"})) << dump(plan.actions);
}

TEST(Users, DistributionDefaults) {
  auto name = [](const char* os_release) {
    auto u = distro_default_user(parse_os_release(os_release));
    return u ? u->name : std::string("(none)");
  };
  EXPECT_EQ(name("ID=debian\n"), "admin");
  EXPECT_EQ(name("ID=ubuntu\nID_LIKE=debian\n"), "ubuntu");
  EXPECT_EQ(name("ID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\n"), "ec2-user");
  EXPECT_EQ(name("ID=\"rhel\"\nID_LIKE=\"fedora\"\n"), "ec2-user");
  EXPECT_EQ(name("ID=rocky\nID_LIKE=\"rhel centos fedora\"\n"), "ec2-user");
  EXPECT_EQ(name("ID=fedora\n"), "ec2-user");
  EXPECT_EQ(name("ID=alpine\n"), "(none)");
  auto amzn = distro_default_user(parse_os_release("ID=\"amzn\"\n"));
  ASSERT_TRUE(amzn);
  EXPECT_EQ(amzn->groups, (std::vector<std::string>{"wheel", "adm", "systemd-journal"}));
  EXPECT_EQ(amzn->sudo, (std::vector<std::string>{"ALL=(ALL) NOPASSWD:ALL"}));
  EXPECT_TRUE(amzn->lock_passwd);
}

TEST(Users, UnknownDistributionWithoutSystemInfoHasNoDefaultUser) {
  Fixture f("{}");
  f.system.files["/etc/os-release"] = "ID=alpine\n";
  auto plan = f.plan("users");
  EXPECT_FALSE(has_errors(plan.diagnostics));
  ASSERT_FALSE(plan.diagnostics.empty());
  EXPECT_NE(plan.diagnostics[0].message.find("no default user"), std::string::npos);
  for (const auto& a : plan.actions) {
    const auto* r = std::get_if<RunCommand>(&a);
    EXPECT_TRUE(r == nullptr || r->argv[0] != "useradd") << dump(plan.actions);
  }
}

TEST(Users, DisableRootFalseGivesRootThePlainKeys) {
  Fixture f("disable_root: false\n");
  f.system.files["/etc/passwd"] += "admin:x:1000:1000:Debian:/home/admin:/bin/bash\n";
  f.system.files["/etc/shadow"] += "admin:!:20000:0:99999:7:::\n";
  f.system.files["/home/admin/.ssh/authorized_keys"] = std::string(kImdsKey) + "\n";
  f.system.files[kSudoersFile] =
      "# Sudo rules of the users amiboot created (cloud-init's users[].sudo).\n"
      "# Rewritten on each new instance.\n\n# User rules for admin\n"
      "admin ALL=(ALL) NOPASSWD:ALL\n";
  auto plan = f.plan("users");
  // (admin exists but is in none of Debian's groups: gpasswd adds them first.)
  std::vector<Action> tail = {
      MakeDir{"/root/.ssh", 0700, "root", "root (disable_root: false): ~root/.ssh"},
      WriteFile{"/root/.ssh/authorized_keys", std::string(kImdsKey) + "\n", 0600, "root", false,
                "root (disable_root: false): authorized_keys (1 key)"}};
  ASSERT_GE(plan.actions.size(), 2u);
  EXPECT_EQ(std::vector<Action>(plan.actions.end() - 2, plan.actions.end()), tail)
      << dump(plan.actions);
}

TEST(Users, WithoutVisudoTheSudoersFileIsWrittenUnchecked) {
  Fixture f("{}");
  f.system.programs.clear();
  auto plan = f.plan("users");
  ASSERT_FALSE(plan.actions.empty());
  const auto* w = std::get_if<WriteFile>(&plan.actions[0]);
  ASSERT_NE(w, nullptr) << dump(plan.actions);
  EXPECT_EQ(w->path, kSudoersFile);
  EXPECT_TRUE(w->check_argv.empty());
}

TEST(Users, NoPasswdFileMeansNoOsTreeAndNothingToDo) {
  Fixture f("users: [default, bob]\n");
  f.system.files.erase("/etc/passwd");
  auto plan = f.plan("users");
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_FALSE(has_errors(plan.diagnostics));
}

TEST(AuthorizedKeys, MergeKeepsOtherLinesAndReplacesTheSameKey) {
  std::string existing =
      "# my keys\n"
      "ssh-ed25519 AAAAmine me@laptop\n"
      "no-pty ssh-rsa AAAAold old@host\n";
  std::string merged = merge_authorized_keys(
      existing, {"ssh-rsa AAAAold renamed@host", "ssh-ed25519 AAAAnew new"}, "no-agent-forwarding");
  EXPECT_EQ(merged,
            "# my keys\n"
            "ssh-ed25519 AAAAmine me@laptop\n"
            "no-agent-forwarding ssh-rsa AAAAold renamed@host\n"
            "no-agent-forwarding ssh-ed25519 AAAAnew new\n");
  EXPECT_EQ(
      merge_authorized_keys(merged, {"ssh-rsa AAAAold renamed@host", "ssh-ed25519 AAAAnew new"},
                            "no-agent-forwarding"),
      merged);
}

}  // namespace
}  // namespace amiboot
