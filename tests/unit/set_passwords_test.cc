// SPDX-License-Identifier: Apache-2.0
// set_passwords: chpasswd (users, the old list), password and ssh_pwauth
// decoded with their positions and planned against a fake instance; random
// passwords through the executor; no password or hash in any diagnostic,
// description or JSON of an action.
#include "modules/set_passwords.h"

#include <gtest/gtest.h>

#include <regex>

#include "agent/cloud_config.h"
#include "agent/executor.h"
#include "agent/journal.h"
#include "modules/sshd_config.h"
#include "tests/support/fake_system.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

constexpr const char* kHash =
    "$6$rounds=4096$5DJ8a9WMTEzIo5J4$Yms6imfeBvf3Yfu84mQBerh18l7OR1Wm1BJXZqFSpJ6BVas0AYJqIjP7czkOa"
    "AZHZi1kxQ5Y1IhgWN8K9NgxR1";

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml) : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
    system.files["/etc/passwd"] =
        "root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000::/home/admin:/bin/bash\n";
    system.files["/etc/ssh/sshd_config"] = "Include /etc/ssh/sshd_config.d/*.conf\n";
  }
};

RunCommand tool(std::vector<std::string> argv, std::string label) {
  RunCommand r{std::move(argv), std::move(label)};
  r.root_option = "--root";
  return r;
}

RunCommand text(const std::string& user, const std::string& password, const std::string& source) {
  RunCommand r = tool({"chpasswd"}, source + " (" + user + "): set password");
  r.root_extra_args = {"--crypt-method", "SHA512"};
  r.input = user + ":" + password + "\n";
  return r;
}

RunCommand hash(const std::string& user, const std::string& password, const std::string& source) {
  RunCommand r = tool({"chpasswd", "--encrypted"}, source + " (" + user + "): set password (hash)");
  r.input = user + ":" + password + "\n";
  return r;
}

SetRandomPasswords random(std::vector<std::string> users) {
  RunCommand r = tool({"chpasswd"}, "chpasswd: random password");
  r.root_extra_args = {"--crypt-method", "SHA512"};
  return SetRandomPasswords{std::move(users), r};
}

RunCommand expire(const std::string& user) {
  return tool({"passwd", "--expire", user}, "chpasswd.expire (" + user + ")");
}

/// Every text a plan or its diagnostics show anywhere but stdin.
std::string shown(const PlanResult& plan) {
  std::string out = testing::formatted(plan.diagnostics) + plan.summary + "\n";
  for (const auto& a : plan.actions) {
    out += describe(a) + "\n" + action_to_json(a).dump() + "\n";
  }
  return out;
}

TEST(Chpasswd, UsersOfEachTypeThenExpiry) {
  Fixture f(std::string("chpasswd:\n  users:\n") +
            "    - {name: admin, password: 'Fake pass 1', type: text}\n" +
            "    - {name: bob, password: '" + kHash + "'}\n" +  // type hash by default
            "    - {name: carol, type: RANDOM}\n");
  auto plan = f.plan("set_passwords");
  EXPECT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {text("admin", "Fake pass 1", "chpasswd.users[0]"),
                                  hash("bob", kHash, "chpasswd.users[1]"),
                                  random({"carol"}),
                                  expire("admin"),
                                  expire("bob"),
                                  expire("carol")};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "3 password(s) set (1 random, on the console), expired");
  // Setting passwords leaves sshd's PasswordAuthentication alone.
  for (const auto& a : plan.actions) {
    EXPECT_EQ(std::get_if<WriteFile>(&a), nullptr);
  }
  std::string out = shown(plan);
  EXPECT_EQ(out.find("Fake pass"), std::string::npos) << out;
  EXPECT_EQ(out.find("5DJ8a9WMTEzIo5J4"), std::string::npos) << out;
}

TEST(Chpasswd, OneChpasswdForAllTextPasswordsAndOneForAllHashes) {
  // As cloud-init runs it: a line per user on stdin, not a process per user.
  Fixture f(std::string("chpasswd:\n  expire: false\n  users:\n") +
            "    - {name: admin, password: 'Fake pass 1', type: text}\n" +
            "    - {name: bob, password: '" + kHash + "'}\n" +
            "    - {name: carol, password: 'Fake pass 3', type: text}\n" +
            "    - {name: dave, password: '" + kHash + "'}\n");
  auto plan = f.plan("set_passwords");
  EXPECT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  RunCommand text = tool({"chpasswd"},
                         "chpasswd.users[0] (admin), chpasswd.users[2] (carol): "
                         "set passwords");
  text.root_extra_args = {"--crypt-method", "SHA512"};
  text.input = "admin:Fake pass 1\ncarol:Fake pass 3\n";
  RunCommand hashes =
      tool({"chpasswd", "--encrypted"},
           "chpasswd.users[1] (bob), chpasswd.users[3] (dave): set passwords (hash)");
  hashes.input = std::string("bob:") + kHash + "\ndave:" + kHash + "\n";
  EXPECT_EQ(plan.actions, (std::vector<Action>{text, hashes}));
  EXPECT_EQ(plan.summary, "4 password(s) set");
  std::string out = shown(plan);
  EXPECT_EQ(out.find("Fake pass"), std::string::npos) << out;
}

TEST(Chpasswd, ExpireFalseExpiresNothing) {
  Fixture f("chpasswd:\n  expire: false\n  users: [{name: admin, password: x1, type: text}]\n");
  auto plan = f.plan("set_passwords");
  EXPECT_EQ(plan.actions, std::vector<Action>{text("admin", "x1", "chpasswd.users[0]")});
}

TEST(Chpasswd, TheOldListFormWithAWarning) {
  Fixture str(std::string("chpasswd:\n  list: |\n    admin:Fake pass 2\n    bob:") + kHash +
              "\n    carol:R\n    dave:RANDOM\n");
  auto plan = str.plan("set_passwords");
  ASSERT_EQ(plan.diagnostics.size(), 1u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:2:9: warning: chpasswd.list: deprecated in cloud-init 22.2 (a multi-line "
            "string even more so); use chpasswd.users");
  std::vector<Action> expected = {text("admin", "Fake pass 2", "chpasswd.list (line 1)"),
                                  hash("bob", kHash, "chpasswd.list (line 2)"),
                                  random({"carol", "dave"}),
                                  expire("admin"),
                                  expire("bob"),
                                  expire("carol"),
                                  expire("dave")};
  EXPECT_EQ(plan.actions, expected);

  // A list of lines; a yescrypt hash is a hash here too (cloud-init's
  // regular expression knows only $1$, $2a$, $2y$, $5$ and $6$).
  Fixture list(
      "chpasswd:\n  expire: false\n  list:\n    - admin:$y$j9T$fakesalt$FakeYescryptHash0\n");
  auto from_list = list.plan("set_passwords");
  ASSERT_EQ(from_list.diagnostics.size(), 1u) << testing::formatted(from_list.diagnostics);
  EXPECT_EQ(from_list.diagnostics[0].format(),
            "user-data:4:5: warning: chpasswd.list: deprecated in cloud-init 22.2; use "
            "chpasswd.users");
  EXPECT_EQ(
      from_list.actions,
      std::vector<Action>{hash("admin", "$y$j9T$fakesalt$FakeYescryptHash0", "chpasswd.list[0]")});
}

TEST(Chpasswd, PasswordIsTheDefaultUsers) {
  // cloud-init's cc_set_passwords example 1.
  Fixture f("{password: password1, ssh_pwauth: true}\n");
  auto plan = f.plan("set_passwords");
  EXPECT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {
      text("admin", "password1", "password"), expire("admin"),
      WriteFile{kSshdDropIn,
                "# From ssh_pwauth in the user data (amiboot).\nPasswordAuthentication yes\n", 0644,
                "root:root", false, "ssh_pwauth: PasswordAuthentication yes (drop-in)"}};
  EXPECT_EQ(plan.actions, expected);

  // The default user as the users keys name it.
  Fixture named("user: ops\npassword: RANDOM\n");
  EXPECT_EQ(named.plan("set_passwords").actions,
            (std::vector<Action>{random({"ops"}), expire("ops")}));
  Fixture hashed(std::string("password: '") + kHash + "'\nchpasswd: {expire: false}\n");
  EXPECT_EQ(hashed.plan("set_passwords").actions,
            std::vector<Action>{hash("admin", kHash, "password")});
}

TEST(Chpasswd, PasswordIsIgnoredWhenChpasswdSetsPasswordsOrThereIsNoDefaultUser) {
  Fixture f("password: fake1\nchpasswd:\n  users: [{name: bob, type: RANDOM}]\n");
  auto plan = f.plan("set_passwords");
  ASSERT_EQ(plan.diagnostics.size(), 1u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:1:11: warning: password: ignored: chpasswd sets the passwords (as in "
            "cloud-init, `password` is for when it does not)");
  EXPECT_EQ(plan.actions, (std::vector<Action>{random({"bob"}), expire("bob")}));

  Fixture no_default("users: [bob]\npassword: fake1\n");
  auto none = no_default.plan("set_passwords");
  EXPECT_TRUE(none.actions.empty());
  // (The first is the users keys' own warning: the rows share a decoder.)
  ASSERT_EQ(none.diagnostics.size(), 2u) << testing::formatted(none.diagnostics);
  EXPECT_EQ(none.diagnostics[1].format(),
            "warning: password: there is no default user to set it for; ignored");
}

TEST(Chpasswd, BadInputNamesThePositionAndNeverThePassword) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  for (const auto& c : {
           Case{"chpasswd:\n  users:\n    - {name: bob, password: Secret-1}\n",
                "user-data:3:29: chpasswd.users[0].password: expected a crypt(3) hash such as "
                "$6$salt$hash or $y$j9T$salt$hash (for a clear-text password add type: text)"},
           Case{"chpasswd:\n  users:\n    - {name: bob, password: '$6$onlysalt'}\n",
                "user-data:3:29: chpasswd.users[0].password: expected a crypt(3) hash such as "
                "$6$salt$hash or $y$j9T$salt$hash (for a clear-text password add type: text)"},
           Case{"chpasswd:\n  users:\n    - {name: bob, password: x, type: plain}\n",
                "user-data:3:38: chpasswd.users[0].type: expected hash, text or RANDOM, got "
                "'plain'"},
           Case{"chpasswd:\n  users:\n    - {password: Secret-1, type: text}\n",
                "user-data:3:7: chpasswd.users[0]: a user needs a name"},
           Case{"chpasswd:\n  users:\n    - {name: bob, type: text}\n",
                "user-data:3:7: chpasswd.users[0]: needs a password (or type: RANDOM for a random "
                "one)"},
           Case{"chpasswd:\n  users:\n    - bob:Secret-1\n",
                "user-data:3:7: chpasswd.users[0]: expected a map with name, password and type, "
                "got a string"},
           Case{"chpasswd:\n  users:\n    - {name: 'bad name', password: Secret-1, type: text}\n",
                "user-data:3:14: chpasswd.users[0].name: 'bad name' is not a valid user name "
                "(letters, digits, '_', '-', '.'; not starting with '-')"},
           Case{"chpasswd:\n  users:\n    - {name: bob, password: 123456, type: text}\n",
                "user-data:3:29: chpasswd.users[0].password: expected a string (quote a numeric "
                "password), got an integer"},
           Case{"chpasswd:\n  users:\n    - {name: bob, password: \"Secret\\nroot:x\", type: "
                "text}\n",
                "user-data:3:29: chpasswd.users[0].password: a password must be a single line"},
           Case{"chpasswd:\n  users: {name: bob}\n",
                "user-data:2:10: chpasswd.users: expected a list, got a map"},
           Case{"chpasswd:\n  list:\n    - Secret-1\n",
                "user-data:3:7: chpasswd.list[0]: expected user:password"},
           Case{"chpasswd:\n  list: |\n    bob:Secret-1\n    Secret-2\n",
                "user-data:2:9: chpasswd.list (line 2): expected user:password"},
           Case{"chpasswd:\n  expire: sometimes\n",
                "user-data:2:11: chpasswd.expire: expected a boolean (true or false), got a "
                "string"},
           Case{"chpasswd: [bob]\n", "user-data:1:11: chpasswd: expected a map, got a list"},
           Case{"password: 1234\n",
                "user-data:1:11: password: expected a string (quote a numeric password), got an "
                "integer"},
           Case{"ssh_pwauth: [yes]\n",
                "user-data:1:13: ssh_pwauth: expected true, false or 'unchanged', got a list"},
       }) {
    Fixture f(c.yaml);
    Diagnostics d;
    f.check("set_passwords", d);
    ASSERT_TRUE(has_errors(d)) << c.yaml << testing::formatted(d);
    std::string first_error;
    for (const auto& x : d) {
      if (x.severity == Diagnostic::Severity::Error && first_error.empty()) {
        first_error = x.format();
      }
      EXPECT_EQ(x.message.find("Secret"), std::string::npos) << x.format();
    }
    EXPECT_EQ(first_error, c.message) << c.yaml;
    // The document is rejected whole: neither row plans anything from it.
    EXPECT_TRUE(f.plan("set_passwords").actions.empty()) << c.yaml;
    auto doc = parse_yaml(c.yaml, "user-data");
    ASSERT_TRUE(doc.ok());
    Diagnostics whole;
    EXPECT_FALSE(decode_cloud_config(*doc, whole).has_value()) << c.yaml;
  }
}

TEST(Chpasswd, SshPwauthTrueFalseUnchanged) {
  Fixture yes("ssh_pwauth: true\n");
  std::vector<Action> drop_in = {WriteFile{
      kSshdDropIn, "# From ssh_pwauth in the user data (amiboot).\nPasswordAuthentication yes\n",
      0644, "root:root", false, "ssh_pwauth: PasswordAuthentication yes (drop-in)"}};
  EXPECT_EQ(yes.plan("set_passwords").actions, drop_in);
  // Already so: nothing to do.
  Fixture again("ssh_pwauth: no\n");
  again.system.files[kSshdDropIn] =
      "# From ssh_pwauth in the user data (amiboot).\nPasswordAuthentication no\n";
  EXPECT_TRUE(again.plan("set_passwords").actions.empty());
  for (const char* yaml : {"ssh_pwauth: unchanged\n", "ssh_pwauth: ''\n"}) {
    Fixture unchanged(yaml);
    auto plan = unchanged.plan("set_passwords");
    EXPECT_TRUE(plan.actions.empty()) << yaml;
    EXPECT_TRUE(plan.diagnostics.empty()) << yaml << testing::formatted(plan.diagnostics);
  }
  // cloud-init leaves sshd alone, with a warning, for any other string.
  Fixture odd("ssh_pwauth: sometimes\n");
  auto plan = odd.plan("set_passwords");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:1:13: warning: ssh_pwauth: not true, false or 'unchanged': "
            "PasswordAuthentication is left unchanged, as cloud-init does");
  Fixture quoted("ssh_pwauth: 'no'\n");
  EXPECT_EQ(quoted.plan("set_passwords").actions.size(), 1u);
  Fixture no_sshd("ssh_pwauth: true\n");
  no_sshd.system.files.erase("/etc/ssh/sshd_config");
  auto none = no_sshd.plan("set_passwords");
  EXPECT_TRUE(none.actions.empty());
  ASSERT_EQ(none.diagnostics.size(), 1u);
  EXPECT_EQ(none.diagnostics[0].format(),
            "warning: ssh_pwauth: no /etc/ssh: sshd is not installed; ignored");
}

TEST(Chpasswd, SshPwauthEditsSshdConfigThatIncludesNoDropIns) {
  // Amazon Linux 2, RHEL 8: a drop-in would be ignored.
  Fixture f("ssh_pwauth: false\n");
  f.system.files["/etc/ssh/sshd_config"] =
      "Port 22\n#PasswordAuthentication yes\npasswordauthentication yes\nMatch User sftp\n"
      "  PasswordAuthentication yes\n";
  std::vector<Action> edit = {
      WriteFile{"/etc/ssh/sshd_config",
                "Port 22\n#PasswordAuthentication yes\nPasswordAuthentication no\nMatch User "
                "sftp\n  PasswordAuthentication yes\n",
                0600, "root:root", false, "ssh_pwauth: PasswordAuthentication no (sshd_config)"}};
  EXPECT_EQ(f.plan("set_passwords").actions, edit);
  Fixture add("ssh_pwauth: true\n");
  add.system.files["/etc/ssh/sshd_config"] = "Port 22\nMatch User sftp\n  ForceCommand x\n";
  auto plan = add.plan("set_passwords");
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[0]).content,
            "Port 22\nPasswordAuthentication yes\nMatch User sftp\n  ForceCommand x\n");
}

TEST(Chpasswd, CloudInitsDocumentedExamplesAreAcceptedAndActedOn) {
  // doc/module-docs/cc_set_passwords/example2.yaml
  Fixture two(std::string("chpasswd:\n  expire: false\n  users:\n") +
              "  - {name: user1, password: password1, type: text}\n" +
              "  - {name: user2, password: " + kHash + "}\n" +
              "  - {name: user3, type: RANDOM}\nssh_pwauth: false\n");
  auto plan = two.plan("set_passwords");
  EXPECT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {
      text("user1", "password1", "chpasswd.users[0]"), hash("user2", kHash, "chpasswd.users[1]"),
      random({"user3"}),
      WriteFile{kSshdDropIn,
                "# From ssh_pwauth in the user data (amiboot).\nPasswordAuthentication no\n", 0644,
                "root:root", false, "ssh_pwauth: PasswordAuthentication no (drop-in)"}};
  EXPECT_EQ(plan.actions, expected);
  // example3.yaml: ssh_pwauth and a write_files drop-in of its own.
  const std::string three =
      "ssh_pwauth: false\nwrite_files:\n- path: "
      "/etc/ssh/sshd_config.d/70-no-pam-password-auth.conf\n"
      "  content: 'KbdInteractiveAuthentication no'\n  permissions: '0500'\n";
  for (const std::string& yaml :
       {std::string("{password: password1, ssh_pwauth: true}\n"), three}) {
    auto doc = parse_yaml(yaml, "user-data");
    ASSERT_TRUE(doc.ok());
    Diagnostics d;
    EXPECT_TRUE(decode_cloud_config(*doc, d).has_value()) << yaml << testing::formatted(d);
    EXPECT_TRUE(d.empty()) << yaml << testing::formatted(d);
  }
  Fixture f3(three);
  EXPECT_EQ(f3.plan("set_passwords").actions.size(), 1u);
}

TEST(Chpasswd, IsCryptHash) {
  for (const char* good : {"$1$salt$hash", "$5$rounds=5000$salt$hash", kHash,
                           "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd",
                           "$2b$12$abcdefghijklmnopqrstuu5dHr8zB2Q3pVd3P0sOgH1e4i5D2m"}) {
    EXPECT_TRUE(is_crypt_hash(good)) << good;
  }
  for (const char* bad : {"", "hunter2", "$6$", "$6$salt", "$6$salt$", "$6$$hash", "$9$salt$hash",
                          "!$6$salt$hash", "$6$salt$ha sh", "$6$salt$hash:x", "abcdefghijklm"}) {
    EXPECT_FALSE(is_crypt_hash(bad)) << bad;
  }
}

TEST(ChpasswdExecutor, RandomPasswordsGoToChpasswdAndTheConsoleOnly) {
  testing::RecordingSystem system;
  system.allow_console();
  system.expect_run({"chpasswd"});
  system.expect_run({"chpasswd"});
  ExecContext ctx{system, "i-0123456789abcdef0", {{"AMIBOOT_MODULE", "set_passwords"}}};
  bool to_stderr = !journal_available();
  if (to_stderr) {
    ::testing::internal::CaptureStderr();
  }
  auto outcome = execute({random({"carol", "dave"})}, ctx);
  std::string journal = to_stderr ? ::testing::internal::GetCapturedStderr() : "";
  EXPECT_TRUE(outcome.ok());
  ASSERT_EQ(system.commands.size(), 2u);
  ASSERT_EQ(system.console_only_texts.size(), 1u);
  std::string console = system.console_only_texts[0];
  std::smatch m;
  // cloud-init's blurb; 20 characters with a digit, a lower and an upper
  // case letter and punctuation each.
  ASSERT_TRUE(std::regex_match(console, m,
                               std::regex("Set the following 'random' passwords\ncarol:(.{20})\n"
                                          "dave:(.{20})\n")))
      << console;
  for (int i = 1; i <= 2; ++i) {
    std::string password = m[i];
    EXPECT_TRUE(std::regex_search(password, std::regex("[0-9]")));
    EXPECT_TRUE(std::regex_search(password, std::regex("[a-z]")));
    EXPECT_TRUE(std::regex_search(password, std::regex("[A-Z]")));
    EXPECT_TRUE(std::regex_search(password, std::regex("[^0-9a-zA-Z]")));
    std::string user = i == 1 ? "carol" : "dave";
    EXPECT_EQ(system.commands[i - 1].input, user + ":" + password + "\n");
    for (const auto& call : system.calls) {
      EXPECT_EQ(call.find(password), std::string::npos) << call;
    }
    EXPECT_EQ(journal.find(password), std::string::npos) << journal;
  }
  EXPECT_NE(m[1], m[2]);
  if (to_stderr) {
    EXPECT_NE(journal.find("chpasswd: random password: random passwords set for carol, dave; "
                           "shown on the console only"),
              std::string::npos)
        << journal;
  }
  EXPECT_EQ(system.console_lines.size(), 0u);  // nothing on stdout, the journal's console
}

TEST(ChpasswdExecutor, AFailedUserIsNotShownAndWithoutAConsoleNobodySeesThem) {
  testing::RecordingSystem system;
  system.allow_console();
  system.set_no_console();
  system.expect_run({"chpasswd"}, 1);
  system.expect_run({"chpasswd"});
  ExecContext ctx{system, "i-0123456789abcdef0", {}};
  auto outcome = execute({random({"ghost", "dave"})}, ctx);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(outcome.errors[0], "chpasswd: random password (ghost) exited with status 1");
  EXPECT_TRUE(system.console_only_texts.empty());
}

TEST(ChpasswdExecutor, RandomPasswordsUnderARootGetTheRootOptionAndClearTextHashing) {
  testing::RecordingSystem system("/sandbox");
  system.allow_console();
  system.expect_run({"chpasswd", "--root", "/sandbox", "--crypt-method", "SHA512"});
  ExecContext ctx{system, "i-0123456789abcdef0", {}};
  EXPECT_TRUE(execute({random({"carol"})}, ctx).ok());
  EXPECT_EQ(describe(random({"carol"})),
            "set random passwords for carol with chpasswd (shown on the console only)");
}

}  // namespace
}  // namespace amiboot
