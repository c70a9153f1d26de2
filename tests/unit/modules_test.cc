// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <zlib.h>

#include <set>

#include "agent/core/config.h"
#include "agent/core/mergers.h"
#include "modules/commands.h"
#include "modules/final_message.h"
#include "modules/module.h"
#include "modules/scripts.h"
#include "modules/write_files.h"
#include "tests/support/module_fixture.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml) : ModuleFixture(yaml) { metadata.source = "imds"; }
};

std::string gzip(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(t[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) {
    out.push_back(t[((val << 8) >> (bits + 8)) & 0x3F]);
  }
  while (out.size() % 4) {
    out.push_back('=');
  }
  return out;
}

/// The instance's user `app` and its groups `app` and `staff`, for owners.
void add_app_user(Fixture& f) {
  f.system.files["/etc/passwd"] = "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
  f.system.files["/etc/group"] = "root:x:0:\napp:x:1000:\nstaff:x:50:\n";
}

TEST(WriteFiles, PlansEveryEncodingOwnerModeAndAppend) {
  std::string gz_b64 = base64(gzip("zipped\n"));
  Fixture f(
      "write_files:\n"
      "  - path: /etc/plain\n    content: hello\n"
      "  - path: /etc/b64\n    encoding: b64\n    content: aGk=\n    permissions: '0600'\n"
      "  - path: /etc/gz\n    encoding: gz+b64\n    content: " +
      gz_b64 +
      "\n    owner: app:staff\n    permissions: 0755\n"
      "  - path: /etc/more\n    content: line\n    append: true\n"
      "  - path: /home/app/later\n    content: x\n    defer: true\n");
  add_app_user(f);
  auto plan = f.plan("write_files");
  ASSERT_TRUE(plan.diagnostics.empty()) << plan.diagnostics[0].format();
  std::vector<Action> expected = {
      WriteFile{"/etc/plain", "hello", 0644, "root:root", false, "write_files[0]"},
      WriteFile{"/etc/b64", "hi", 0600, "root:root", false, "write_files[1]"},
      WriteFile{"/etc/gz", "zipped\n", 0755, "app:staff", false, "write_files[2]"},
      WriteFile{"/etc/more", "line", 0644, "root:root", true, "write_files[3]"},
  };
  EXPECT_EQ(plan.actions, expected);
  auto deferred = f.plan("write_files_deferred");
  std::vector<Action> expected_deferred = {
      WriteFile{"/home/app/later", "x", 0644, "root:root", false, "write_files[4]"}};
  EXPECT_EQ(deferred.actions, expected_deferred);
}

TEST(WriteFiles, RelativeAndDotDotPathsAreRefused) {
  for (const char* path : {"etc/x", "/etc/../../x", "../x", "/a/.."}) {
    Fixture f(std::string("write_files:\n  - path: '") + path + "'\n    content: x\n");
    auto plan = f.plan("write_files");
    EXPECT_TRUE(plan.actions.empty()) << path;
    ASSERT_TRUE(has_errors(plan.diagnostics)) << path;
    EXPECT_EQ(plan.diagnostics[0].path, "write_files[0].path");
    EXPECT_EQ(plan.diagnostics[0].pos.line, 2);
  }
}

TEST(WriteFiles, OneBadEntryMeansNoEntryIsPlanned) {
  Fixture f(
      "write_files:\n  - path: /ok\n    content: x\n  - path: /bad\n    encoding: b64\n"
      "    content: '!!!notbase64'\n");
  auto plan = f.plan("write_files");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_TRUE(has_errors(plan.diagnostics));
  EXPECT_EQ(plan.diagnostics[0].path, "write_files[1].content");
}

// A number that does not fit a uid must not become "internal error: stoul"
// at run time (stopping the later entries), nor wrap around to root.
TEST(WriteFiles, AnOwnerThatIsNoUserOrIdIsAnErrorWithItsPosition) {
  for (auto [owner, message] :
       {std::pair{"'99999999999999999999'",
                  "'99999999999999999999' is not a valid uid (0 to "
                  "4294967294)"},
        std::pair{"'4294967296'", "'4294967296' is not a valid uid (0 to 4294967294)"},
        std::pair{"'app:4294967295'", "'4294967295' is not a valid gid (0 to 4294967294)"},
        std::pair{"'a:b:c'", "expected user or user:group, got 'a:b:c'"},
        std::pair{"':staff'", "expected user or user:group, got ':staff'"},
        std::pair{"'app: staff'", "a space or control character in the group name"}}) {
    Fixture f(std::string("write_files:\n  - path: /ok\n    content: x\n  - path: /x\n"
                          "    content: x\n    owner: ") +
              owner + "\n");
    auto plan = f.plan("write_files");
    EXPECT_TRUE(plan.actions.empty()) << owner;
    ASSERT_EQ(plan.diagnostics.size(), 1u) << owner;
    EXPECT_EQ(plan.diagnostics[0].format(),
              "user-data:6:12: write_files[1].owner: " + std::string(message))
        << owner;
  }
  Fixture ids("write_files:\n  - path: /x\n    content: x\n    owner: '4294967294:0'\n");
  auto plan = ids.plan("write_files");
  EXPECT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.actions.size(), 1u);
}

// cloud-init writes the entries before an unknown owner, then fails; here
// nothing of the module is written.
TEST(WriteFiles, AnUnknownOwnerFailsTheModuleBeforeAnyEntryIsWritten) {
  Fixture f(
      "write_files:\n  - path: /etc/first\n    content: x\n    owner: app\n"
      "  - path: /etc/second\n    content: x\n    owner: ghost:staff\n"
      "  - path: /etc/third\n    content: x\n    owner: app:nogroup\n");
  add_app_user(f);
  auto plan = f.plan("write_files");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 2u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "write_files[1].owner: no user 'ghost' in /etc/passwd; no entry of write_files was "
            "written");
  EXPECT_EQ(plan.diagnostics[1].format(),
            "write_files[2].owner: no group 'nogroup' in /etc/group; no entry of write_files was "
            "written");
}

TEST(WriteFiles, ANulOrAControlCharacterInThePathIsRefused) {
  for (auto [path, message] :
       {std::pair{"\"/etc/a\\0b\"", "a NUL byte in the path (no file name can hold one)"},
        std::pair{"\"/etc/a\\nb\"", "a control character in the path"}}) {
    Fixture f(std::string("write_files:\n  - path: ") + path + "\n    content: x\n");
    auto plan = f.plan("write_files");
    EXPECT_TRUE(plan.actions.empty()) << path;
    ASSERT_EQ(plan.diagnostics.size(), 1u) << path;
    EXPECT_EQ(plan.diagnostics[0].path, "write_files[0].path");
    EXPECT_EQ(plan.diagnostics[0].message, message);
  }
}

TEST(WriteFiles, BadPermissionsAndEncodingNameTheKey) {
  Fixture f("write_files:\n  - path: /x\n    permissions: '0999'\n    encoding: rot13\n");
  auto plan = f.plan("write_files");
  ASSERT_EQ(plan.diagnostics.size(), 2u);
  EXPECT_EQ(plan.diagnostics[0].path, "write_files[0].encoding");
  EXPECT_EQ(plan.diagnostics[1].path, "write_files[0].permissions");
}

TEST(WriteFiles, SourcePlansAFetchWithItsHeadersAndTheContentAsFallback) {
  Fixture f(
      "write_files:\n"
      "  - path: /etc/app.conf\n"
      "    source:\n"
      "      uri: https://bucket.example.com/app.conf?X-Amz-Signature=s3cr3t\n"
      "      headers: {Authorization: 'Bearer t0ken', X-Empty: ''}\n"
      "    encoding: b64\n    content: aGk=\n    permissions: '0600'\n    owner: app:app\n"
      "  - path: /etc/only-url\n    source: {uri: 'http://10.0.0.1:8080/x'}\n    append: true\n"
      "  - path: /etc/local\n    source: {uri: 'file:///srv/seed/local'}\n    content: ''\n"
      "  - path: /etc/later\n    source: {uri: 'http://h/later'}\n    defer: true\n");
  add_app_user(f);
  auto plan = f.plan("write_files");
  ASSERT_TRUE(plan.diagnostics.empty()) << plan.diagnostics[0].format();
  std::vector<Action> expected = {
      FetchFile{.path = "/etc/app.conf",
                .url = "https://bucket.example.com/app.conf?X-Amz-Signature=s3cr3t",
                .headers = {{"Authorization", "Bearer t0ken"}, {"X-Empty", ""}},
                .fallback = "hi",
                .mode = 0600,
                .owner = "app:app",
                .label = "write_files[0]"},
      FetchFile{.path = "/etc/only-url",
                .url = "http://10.0.0.1:8080/x",
                .owner = "root:root",
                .append = true,
                .label = "write_files[1]"},
      // An explicit empty content is a fallback, as in cloud-init.
      FetchFile{.path = "/etc/local",
                .url = "file:///srv/seed/local",
                .fallback = "",
                .owner = "root:root",
                .label = "write_files[2]"},
  };
  // The downloads share what amiboot.limits.write_files_bytes leaves once
  // the entries' own content ("hi") is counted.
  for (auto& a : expected) {
    std::get<FetchFile>(a).shared_budget =
        FetchBudget{(32u << 20) - 2, 32u << 20, "amiboot.limits.write_files_bytes"};
  }
  EXPECT_EQ(plan.actions, expected);
  auto deferred = f.plan("write_files_deferred");
  ASSERT_EQ(deferred.actions.size(), 1u);
  EXPECT_EQ(std::get<FetchFile>(deferred.actions[0]).url, "http://h/later");
  EXPECT_EQ(std::get<FetchFile>(deferred.actions[0]).fallback, std::nullopt);
}

TEST(WriteFiles, ABadSourceIsAnErrorWithItsPosition) {
  struct Case {
    const char* source;
    const char* path;
    const char* message;
  };
  for (const Case& c : {
           Case{"{uri: 'ftp://h/x'}", "write_files[0].source.uri", "expected an http://"},
           Case{"{uri: '/srv/x'}", "write_files[0].source.uri", "expected an http://"},
           Case{"{uri: ''}", "write_files[0].source.uri", "expected an http://"},
           Case{"{uri: 'file:///a/../etc/shadow'}", "write_files[0].source.uri", "'..'"},
           Case{"{uri: 'http://h/a b'}", "write_files[0].source.uri", "space"},
           Case{"{headers: {A: b}}", "write_files[0].source", "missing required key 'uri'"},
           Case{"https://h/x", "write_files[0].source", "expected a map"},
           Case{"{uri: 'http://h/', headers: [a]}", "write_files[0].source.headers",
                "expected a map"},
           Case{"{uri: 'http://h/', headers: {'Bad Name': x}}", "write_files[0].source.headers",
                "not a valid HTTP header name"},
           Case{"{uri: 'http://h/', headers: {A: \"x\\r\\nInjected: 1\"}}",
                "write_files[0].source.headers.A", "line break"},
       }) {
    Fixture f(std::string("write_files:\n  - path: /x\n    source: ") + c.source + "\n");
    auto plan = f.plan("write_files");
    EXPECT_TRUE(plan.actions.empty()) << c.source;
    ASSERT_TRUE(has_errors(plan.diagnostics)) << c.source;
    EXPECT_EQ(plan.diagnostics[0].path, c.path) << c.source;
    EXPECT_EQ(plan.diagnostics[0].pos.line, 3) << c.source;
    EXPECT_NE(plan.diagnostics[0].message.find(c.message), std::string::npos)
        << plan.diagnostics[0].format();
  }
  // The error shows no query: it may be a signature.
  Fixture f("write_files:\n  - path: /x\n    source: {uri: 'ftp://u:pw@h/x?sig=s3cr3t'}\n");
  auto plan = f.plan("write_files");
  ASSERT_TRUE(has_errors(plan.diagnostics));
  EXPECT_EQ(plan.diagnostics[0].message.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(plan.diagnostics[0].message.find("pw"), std::string::npos);
  // An unknown key inside source is a warning, like the entry's own.
  Fixture extra("write_files:\n  - path: /x\n    source: {uri: 'http://h/', retries: 3}\n");
  plan = extra.plan("write_files");
  EXPECT_FALSE(has_errors(plan.diagnostics));
  EXPECT_EQ(plan.actions.size(), 1u);
}

TEST(WriteFiles, TheSourceSurvivesTheFinalStagesStoredConfig) {
  Diagnostics out;
  auto doc = parse_yaml(
      "write_files:\n"
      "  - {path: /a, source: {uri: 'https://h/a?sig=1', headers: {X-Token: t}}, defer: true}\n"
      "  - {path: /b, source: {uri: 'https://h/b'}, content: fallback, defer: true}\n"
      "  - {path: /c, content: plain, defer: true}\n"
      "  - {path: /d, defer: true}\n",
      "user-data");
  ASSERT_TRUE(doc.ok());
  auto entries = decode_write_files(*doc, out);
  ASSERT_TRUE(entries.has_value());
  nlohmann::json stored = *entries;
  auto restored = nlohmann::json::parse(stored.dump()).get<std::vector<WriteFileEntry>>();
  EXPECT_EQ(restored, *entries);
  ASSERT_TRUE(restored[0].source.has_value());
  EXPECT_EQ(restored[0].source->headers.at("X-Token"), "t");
  EXPECT_FALSE(restored[0].has_content);
  EXPECT_TRUE(restored[1].has_content);
  // A file stored before `source` existed still loads.
  nlohmann::json old = {{"path", "/e"}, {"content", "eA=="}, {"owner", "root:root"},
                        {"mode", 0644}, {"append", false},   {"defer", true}};
  auto entry = old.get<WriteFileEntry>();
  EXPECT_EQ(entry.content, "x");
  EXPECT_FALSE(entry.source.has_value());
}

TEST(WriteFiles, AFetchIsDescribedWithoutTheQueryOrTheHeaderValues) {
  FetchFile fetch{
      .path = "/etc/app.conf",
      .url = "https://user:pa55@bucket.example.com/app.conf?X-Amz-Signature=s3cr3t#frag",
      .headers = {{"Authorization", "Bearer t0ken"}},
      .fallback = "hi",
      .label = "write_files[0]"};
  std::string line = describe(fetch);
  std::string json = action_to_json(fetch).dump();
  for (const std::string& shown : {line, json}) {
    for (const char* secret : {"s3cr3t", "t0ken", "pa55", "user", "frag", "hi\""}) {
      EXPECT_EQ(shown.find(secret), std::string::npos) << secret << " in " << shown;
    }
    EXPECT_NE(shown.find("https://bucket.example.com/app.conf"), std::string::npos) << shown;
    EXPECT_NE(shown.find("Authorization"), std::string::npos) << shown;
  }
  EXPECT_EQ(line,
            "write /etc/app.conf from https://bucket.example.com/app.conf?... (headers "
            "Authorization) (mode 0644, owner root; else 2 bytes given)");
  EXPECT_EQ(action_to_json(fetch)["fallback_bytes"], 2);
  fetch.fallback.reset();
  EXPECT_TRUE(action_to_json(fetch)["fallback_bytes"].is_null());
  EXPECT_NE(describe(fetch).find("nothing written if the fetch fails"), std::string::npos);
  EXPECT_EQ(url_host(fetch.url), "bucket.example.com");
  EXPECT_EQ(url_host("http://10.0.0.1:8080/x"), "10.0.0.1:8080");
  EXPECT_EQ(url_host("file:///srv/x"), "");
}

TEST(Commands, TheItemsAreTheLinesOfOneShScriptAsCloudInitShellifiesThem) {
  // util.shellify: a string is a line as it is; a list's elements are
  // single-quoted, each quote closed, escaped and reopened.
  Fixture f(
      "bootcmd:\n  - echo one; cd /tmp\n  - [touch, \"it's here\", $HOME]\n"
      "runcmd:\n  - [ls, -l, /]\n");
  auto boot = f.plan("bootcmd");
  std::string script = "/var/lib/amiboot/instances/i-abc/bootcmd";
  // Not fsynced: made again from the user data whenever the row runs.
  std::vector<Action> expected = {
      WriteFile{.path = script,
                .content = "#!/bin/sh\necho one; cd /tmp\n'touch' 'it'\\''s here' '$HOME'\n",
                .mode = 0700,
                .label = "bootcmd",
                .durable = false},
      RunCommand{{"/bin/sh"}, "bootcmd"}.target_path(script)};
  EXPECT_EQ(boot.actions, expected);
  auto run = f.plan("scripts_user");
  std::string runcmd = "/var/lib/amiboot/instances/i-abc/scripts/runcmd";
  std::vector<Action> expected_run = {WriteFile{.path = runcmd,
                                                .content = "#!/bin/sh\n'ls' '-l' '/'\n",
                                                .mode = 0700,
                                                .label = "runcmd",
                                                .durable = false},
                                      RunCommand{{runcmd}, "runcmd", true}};
  EXPECT_EQ(run.actions, expected_run);
}

TEST(Commands, AListItemReachesItsCommandWordForWordThroughARealSh) {
  // The quoting is what makes a list an argv inside the script: every word
  // a shell would expand or split must arrive as it was written.
  std::vector<std::string> words = {
      "it's",        "'", "''", "\"q\"",     "$HOME", "${X:-y}",        "`id`",    "$(id)", "a\\b",
      "two  spaces", "*", "~",  "new\nline", "",      "#not a comment", "a;b|c&d", "\t"};
  nlohmann::json item = {"printf", "%s\\0"};
  for (const auto& w : words) {
    item.push_back(w);
  }
  // JSON is YAML: the words go through amiboot's own YAML reader.
  Fixture f(nlohmann::json{{"runcmd", {item}}}.dump());
  auto plan = f.plan("scripts_user");
  ASSERT_EQ(plan.actions.size(), 2u);
  testing::TempDir dir;
  testing::write_file(dir / "runcmd", std::get<WriteFile>(plan.actions[0]).content);
  auto r = testing::run({"/bin/sh", dir / "runcmd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected;
  for (const auto& w : words) {
    expected += w + '\0';
  }
  EXPECT_EQ(r.out, expected);
}

TEST(WriteFiles, CloudInitsBinaryGzipExampleIsInflated) {
  // cloud-init's documented write_files example: PyYAML reads !!binary as
  // bytes, and encoding gzip (or gz) inflates them.
  for (const char* encoding : {"gzip", "gz"}) {
    Fixture f(std::string("write_files:\n"
                          "  - encoding: ") +
              encoding +
              "\n"
              "    content: !!binary |\n"
              "      H4sIAIDb/U8C/1NW1E/KzNMvzuBKTc7IV8hIzcnJVyjPL8pJ4QIA6N+MVxsAAAA=\n"
              "    path: /usr/bin/hello\n"
              "    permissions: '0755'\n");
    auto plan = f.plan("write_files");
    ASSERT_TRUE(plan.diagnostics.empty()) << plan.diagnostics[0].format();
    std::vector<Action> expected = {WriteFile{"/usr/bin/hello", "#!/bin/sh\necho hello world\n",
                                              0755, "root:root", false, "write_files[0]"}};
    EXPECT_EQ(plan.actions, expected) << encoding;
  }
  // Without an encoding the bytes are the content, as cloud-init writes them.
  Fixture raw("write_files:\n  - {path: /etc/raw.bin, content: !!binary AP8KgA==}\n");
  auto plan = raw.plan("write_files");
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[0]).content, std::string("\x00\xff\x0a\x80", 4));
  // Bytes that are not gzip: the usual error, with the position.
  Fixture bad("write_files:\n  - {path: /etc/x, encoding: gzip, content: !!binary aGVsbG8=}\n");
  plan = bad.plan("write_files");
  ASSERT_TRUE(has_errors(plan.diagnostics));
  EXPECT_EQ(plan.diagnostics[0].format().rfind(
                "user-data:2:45: write_files[0].content: content is not valid gzip", 0),
            0u)
      << plan.diagnostics[0].format();
}

TEST(Commands, NullItemsAreSkipped) {
  // cloud-init's schema allows null items (a commented-out line) and skips them.
  for (const char* key : {"runcmd", "bootcmd"}) {
    Fixture f(std::string(key) + ":\n  - echo one\n  -\n  - [echo, three]\n  - null\n  - ~\n");
    auto plan = f.plan(std::string(key) == "runcmd" ? "scripts_user" : key);
    ASSERT_TRUE(plan.diagnostics.empty()) << plan.diagnostics[0].format();
    ASSERT_EQ(plan.actions.size(), 2u) << key;
    EXPECT_EQ(std::get<WriteFile>(plan.actions[0]).content, "#!/bin/sh\necho one\n'echo' 'three'\n")
        << key;
  }
  // Only nulls: nothing to run, and nothing wrong.
  for (const char* only_nulls : {"runcmd: [null, ~]\n", "bootcmd: [null]\n"}) {
    Fixture nulls(only_nulls);
    auto plan = nulls.plan(nulls.config.get("runcmd") ? "scripts_user" : "bootcmd");
    EXPECT_TRUE(plan.diagnostics.empty());
    EXPECT_TRUE(plan.actions.empty()) << only_nulls;
  }
  // The script survives the final stage's stored config.
  Diagnostics d;
  Fixture f("runcmd:\n  -\n  - echo two\n");
  auto decoded = decode_command_list(f.config, "runcmd", d);
  ASSERT_TRUE(decoded.has_value());
  nlohmann::json stored = *decoded;
  CommandList restored = stored.get<CommandList>();
  EXPECT_EQ(shellify(restored), "#!/bin/sh\necho two\n");
}

TEST(Scripts, UserScriptsAreWrittenThenRunInOrder) {
  Fixture f("{}");
  f.parts = {{PartType::ShellScript, "b.sh", "user-data part 2 (b.sh)", "#!/bin/bash\necho b\n"},
             {PartType::CloudConfig, "c", "user-data part 1", "{}"},
             {PartType::Boothook, "hook", "user-data part 3", "echo hook\n"}};
  auto plan = f.plan("scripts_user");
  std::string path = "/var/lib/amiboot/instances/i-abc/scripts/b.sh";
  std::vector<Action> expected = {
      script_file(path, "#!/bin/bash\necho b\n", "user-data part 2 (b.sh)"),
      RunCommand{{path}, "scripts b.sh", true}};
  EXPECT_EQ(plan.actions, expected);
  auto hooks = f.plan("boothooks");
  ASSERT_EQ(hooks.actions.size(), 2u);
  // A boothook has no interpreter line of its own: it runs with sh.
  EXPECT_EQ(std::get<WriteFile>(hooks.actions[0]).content, "#!/bin/sh\necho hook\n");
}

TEST(Scripts, RuncmdRunsAmongTheUserScriptsInNameOrder) {
  // cloud-init writes runcmd as the script `runcmd` next to the user-data
  // scripts and runs them all in one pass by name.
  Fixture f("runcmd:\n  - [touch, /tmp/r]\n  - echo two\n");
  f.parts = {
      {PartType::ShellScript, "setup.sh", "user-data part 3 (setup.sh)", "#!/bin/sh\n"},
      {PartType::CloudConfig, "c", "user-data part 2", "{}"},
      {PartType::ShellScript, "00-prepare.sh", "user-data part 1 (00-prepare.sh)", "#!/bin/sh\n"}};
  auto plan = f.plan("scripts_user");
  ASSERT_TRUE(plan.diagnostics.empty());
  std::vector<std::string> order;
  for (const Action& action : plan.actions) {
    if (const auto* run = std::get_if<RunCommand>(&action)) {
      order.push_back(run->label);
    }
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"scripts 00-prepare.sh", "runcmd", "scripts setup.sh"}));
  // Every script is written before the first runs, as cloud-init's folder is.
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::holds_alternative<WriteFile>(plan.actions[i])) << i;
  }

  // runcmd after every script whose name sorts before it.
  f.parts = {{PartType::ShellScript, "part-001", "user-data part 1", "#!/bin/sh\n"}};
  plan = f.plan("scripts_user");
  ASSERT_EQ(plan.actions.size(), 4u);
  EXPECT_EQ(std::get<RunCommand>(plan.actions[3]).label, "runcmd");

  // A part named runcmd: cloud-init's runcmd module overwrites its file.
  f.parts = {{PartType::ShellScript, "runcmd", "user-data part 1 (runcmd)", "#!/bin/sh\n"}};
  plan = f.plan("scripts_user");
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_NE(plan.diagnostics[0].message.find("user-data part 1 (runcmd) is named runcmd"),
            std::string::npos);
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[0]).content,
            "#!/bin/sh\n'touch' '/tmp/r'\necho two\n");
  EXPECT_EQ(std::get<RunCommand>(plan.actions[1]).label, "runcmd");
}

TEST(Scripts, FoldersRunTheirExecutablesByName) {
  Fixture f("{}");
  f.system.executables["/var/lib/amiboot/scripts/per-boot"] = {"10-a", "20-b"};
  auto plan = f.plan("scripts_per_boot");
  std::vector<Action> expected = {
      RunCommand{{"/var/lib/amiboot/scripts/per-boot/10-a"}, "per-boot 10-a", true},
      RunCommand{{"/var/lib/amiboot/scripts/per-boot/20-b"}, "per-boot 20-b", true}};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_TRUE(f.plan("scripts_per_once").actions.empty());
}

TEST(FinalMessage, SubstitutesLikeCloudInit) {
  Fixture f("final_message: 'up $UPTIME on {{datasource}} as $INSTANCE_ID at $TIMESTAMP'\n");
  Facts in = f.facts();
  in.uptime_seconds = 12.5;
  in.timestamp = "2026-01-01T00:00:00Z";
  auto plan = f.plan("final_message", in);
  std::vector<Action> expected = {
      ConsoleMessage{"up 12.50 on imds as i-abc at 2026-01-01T00:00:00Z"}};
  EXPECT_EQ(plan.actions, expected);
}

TEST(ModuleTable, EveryModuleIsFoundByNameAndKeysAreOwnedOnce) {
  std::set<std::string_view> names;
  for (const auto& m : module_table()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_EQ(find_module(m.name), &m);
    for (auto key : m.keys) {
      EXPECT_FALSE(is_cloud_init_key_we_lack(key)) << key << " is owned by " << m.name;
    }
  }
  // bootcmd runs before anything else that is configured, as in cloud-init.
  EXPECT_EQ(module_table()[1].name, "bootcmd");
}

TEST(ModuleTable, EveryKeyOfCloudInitsSchemaIsOwnedOrKnownToBeLacking) {
  // The "properties" of cloud-init's schema-cloud-config-v1.json
  // (canonical/cloud-init, main, August 2026), typed in by hand. Each is
  // acted on by a row, or warned about as "no module"; none is "unknown".
  static const char* const kSchemaKeys[] = {"allow_public_ssh_keys",
                                            "ansible",
                                            "apk_repos",
                                            "apt",
                                            "apt_pipelining",
                                            "apt_reboot_if_required",
                                            "apt_update",
                                            "apt_upgrade",
                                            "authkey_hash",
                                            "autoinstall",
                                            "bootcmd",
                                            "byobu_by_default",
                                            "ca-certs",
                                            "ca_certs",
                                            "chef",
                                            "chpasswd",
                                            "cloud_config_modules",
                                            "cloud_final_modules",
                                            "cloud_init_modules",
                                            "create_hostname_file",
                                            "device_aliases",
                                            "disable_ec2_metadata",
                                            "disable_root",
                                            "disable_root_opts",
                                            "disk_setup",
                                            "drivers",
                                            "fan",
                                            "final_message",
                                            "fqdn",
                                            "fs_setup",
                                            "groups",
                                            "growpart",
                                            "grub-dpkg",
                                            "grub_dpkg",
                                            "hostname",
                                            "keyboard",
                                            "landscape",
                                            "launch-index",
                                            "locale",
                                            "locale_configfile",
                                            "lxd",
                                            "manage_etc_hosts",
                                            "manage_resolv_conf",
                                            "mcollective",
                                            "merge_how",
                                            "merge_type",
                                            "migrate",
                                            "mount_default_fields",
                                            "mounts",
                                            "no_ssh_fingerprints",
                                            "ntp",
                                            "output",
                                            "package_reboot_if_required",
                                            "package_update",
                                            "package_upgrade",
                                            "packages",
                                            "password",
                                            "phone_home",
                                            "power_state",
                                            "prefer_fqdn_over_hostname",
                                            "preserve_hostname",
                                            "puppet",
                                            "random_seed",
                                            "reporting",
                                            "resize_rootfs",
                                            "resolv_conf",
                                            "rh_subscription",
                                            "rpi",
                                            "rsyslog",
                                            "runcmd",
                                            "salt_minion",
                                            "snap",
                                            "spacewalk",
                                            "ssh",
                                            "ssh_authorized_keys",
                                            "ssh_deletekeys",
                                            "ssh_fp_console_blacklist",
                                            "ssh_genkeytypes",
                                            "ssh_import_id",
                                            "ssh_key_console_blacklist",
                                            "ssh_keys",
                                            "ssh_publish_hostkeys",
                                            "ssh_pwauth",
                                            "ssh_quiet_keygen",
                                            "swap",
                                            "system_info",
                                            "timezone",
                                            "ubuntu_advantage",
                                            "ubuntu_pro",
                                            "updates",
                                            "user",
                                            "users",
                                            "vendor_data",
                                            "version",
                                            "wireguard",
                                            "write_files",
                                            "yum_repo_dir",
                                            "yum_repos",
                                            "zypper"};
  std::set<std::string_view> owned;
  for (const auto& m : module_table()) {
    owned.insert(m.keys.begin(), m.keys.end());
  }
  for (std::string_view key : kSchemaKeys) {
    // merge_how and merge_type belong to the merge itself (agent/core/mergers.h).
    EXPECT_TRUE(owned.contains(key) || is_cloud_init_key_we_lack(key) || is_merge_key(key))
        << key << " is in cloud-init's schema but neither a row's key nor a key we lack";
  }
  EXPECT_FALSE(is_cloud_init_key_we_lack("frobnicate"));
}

}  // namespace
}  // namespace amiboot
