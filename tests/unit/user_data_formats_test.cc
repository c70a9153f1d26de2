// SPDX-License-Identifier: Apache-2.0
// cloud-init's other user-data formats: text/x-shellscript-per-{boot,instance,
// once} parts, #include-once, #cloud-config-archive and #part-handler, from
// the decoder through the scripts_per_* plans to the runner over two boots.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "agent/core/user_data.h"
#include "agent/runner.h"
#include "modules/commands.h"
#include "modules/module.h"
#include "tests/support/module_fixture.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

using Fixture = testing::ModuleFixture;

DecodedUserData decode_ok(const std::string& raw, const UserDataOptions& options = {}) {
  Result<DecodedUserData> result = decode_user_data(raw, options);
  EXPECT_TRUE(result.ok()) << result.error().message;
  return result.ok() ? *result : DecodedUserData{};
}

// A multipart as Python's email package writes it, one text part per entry
// (subtype, filename, body).
std::string mime(const std::vector<std::array<std::string, 3>>& parts) {
  std::string out = "Content-Type: multipart/mixed; boundary=\"XXX\"\nMIME-Version: 1.0\n\n";
  for (const auto& [subtype, filename, body] : parts) {
    out += "--XXX\nContent-Type: text/" + subtype +
           "; charset=\"us-ascii\"\nMIME-Version: 1.0\nContent-Transfer-Encoding: 7bit\n"
           "Content-Disposition: attachment; filename=\"" +
           filename + "\"\n\n" + body + "\n";
  }
  return out + "--XXX--\n";
}

bool contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& line : lines) {
    if (line.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// --- text/x-shellscript-per-* --------------------------------------------

TEST(UserDataFormats, PerBootInstanceAndOncePartsKeepTheirFrequency) {
  DecodedUserData d = decode_ok(mime({{"x-shellscript-per-boot", "b.sh", "#!/bin/sh\necho b"},
                                      {"x-shellscript-per-instance", "i.sh", "  #!/bin/sh\necho i"},
                                      {"x-shellscript-per-once", "o.sh", "echo o"},
                                      {"x-shellscript-per-fortnight", "f.sh", "#!/bin/sh\n"}}));
  ASSERT_EQ(d.parts.size(), 3u);
  EXPECT_EQ(d.parts[0].type, PartType::ScriptPerBoot);
  EXPECT_EQ(d.parts[0].name, "b.sh");
  EXPECT_EQ(d.parts[1].type, PartType::ScriptPerInstance);
  EXPECT_EQ(d.parts[1].content, "#!/bin/sh\necho i") << "whitespace before #! is dropped";
  EXPECT_EQ(d.parts[2].type, PartType::ScriptPerOnce);
  EXPECT_TRUE(contains(d.warnings, "text/x-shellscript-per-fortnight is not supported"));
  EXPECT_TRUE(d.errors.empty());
}

TEST(UserDataFormats, ScriptsPerBootWritesItsPartsAndRunsThemWithTheFolderByName) {
  Fixture f("{}");
  f.system.executables["/var/lib/amiboot/scripts/per-boot"] = {"10-image", "30-image"};
  f.parts = {{PartType::ScriptPerBoot, "20-part", "user-data part 2 (20-part)", "echo p\n"},
             {PartType::ScriptPerInstance, "05-inst", "user-data part 3 (05-inst)", "#!/bin/sh\n"},
             {PartType::ShellScript, "00-user", "user-data part 1 (00-user)", "#!/bin/sh\n"}};
  const std::string dir = "/var/lib/amiboot/scripts/per-boot/";
  std::vector<Action> expected = {
      script_file(dir + "20-part", "#!/bin/sh\necho p\n", "user-data part 2 (20-part)"),
      RunCommand{{dir + "10-image"}, "per-boot 10-image", true},
      RunCommand{{dir + "20-part"}, "per-boot 20-part", true},
      RunCommand{{dir + "30-image"}, "per-boot 30-image", true}};
  EXPECT_EQ(f.plan("scripts_per_boot").actions, expected);

  // A part already written on an earlier boot is listed by the folder too:
  // it runs once, not twice.
  f.system.executables["/var/lib/amiboot/scripts/per-boot"] = {"10-image", "20-part", "30-image"};
  EXPECT_EQ(f.plan("scripts_per_boot").actions, expected);
}

TEST(UserDataFormats, PerInstanceAndPerOncePartsGoToTheirOwnFolders) {
  Fixture f("{}");
  f.parts = {{PartType::ScriptPerInstance, "i.sh", "user-data part 1 (i.sh)", "#!/bin/bash\n"},
             {PartType::ScriptPerOnce, "o.sh", "user-data part 2 (o.sh)", "#!/bin/sh\n"}};
  std::vector<Action> instance = {
      script_file("/var/lib/amiboot/scripts/per-instance/i.sh", "#!/bin/bash\n",
                  "user-data part 1 (i.sh)"),
      RunCommand{{"/var/lib/amiboot/scripts/per-instance/i.sh"}, "per-instance i.sh", true}};
  EXPECT_EQ(f.plan("scripts_per_instance").actions, instance);
  std::vector<Action> once = {
      script_file("/var/lib/amiboot/scripts/per-once/o.sh", "#!/bin/sh\n",
                  "user-data part 2 (o.sh)"),
      RunCommand{{"/var/lib/amiboot/scripts/per-once/o.sh"}, "per-once o.sh", true}};
  EXPECT_EQ(f.plan("scripts_per_once").actions, once);
  EXPECT_TRUE(f.plan("scripts_per_boot").actions.empty());
  EXPECT_TRUE(f.plan("scripts_user").actions.empty()) << "not user scripts";
}

// --- #part-handler ---------------------------------------------------------

TEST(UserDataFormats, PartHandlersAreRejectedWithAnError) {
  DecodedUserData d = decode_ok("#part-handler\ndef list_types(): return []\n");
  EXPECT_TRUE(d.parts.empty());
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0], "user-data: amiboot runs no Python part handlers; the part is rejected");

  d = decode_ok(mime({{"part-handler", "h.py", "def list_types(): return []"},
                      {"cloud-config", "c.yaml", "#cloud-config\nruncmd: [true]"}}));
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0],
            "user-data part 1 (h.py): amiboot runs no Python part handlers; the part is rejected");
  ASSERT_EQ(d.parts.size(), 1u) << "the other parts are kept";
  EXPECT_EQ(d.parts[0].type, PartType::CloudConfig);
}

// --- #cloud-config-archive --------------------------------------------------

TEST(UserDataFormats, ArchiveItemsAreDecodedAsPartsOfTheirType) {
  DecodedUserData d = decode_ok(
      "#cloud-config-archive\n"
      "- type: text/cloud-config\n"
      "  content: |\n"
      "    runcmd: [one]\n"
      "  Merge-Type: list(append)+dict(recurse_array)+str()\n"
      "- content: '#!/bin/sh\n\n    echo two\n\n    '\n"
      "  filename: two.sh\n"
      "- |\n"
      "  hostname: three\n"
      "- type: text/x-shellscript-per-boot\n"
      "  filename: ../four\n"
      "  content: 'echo four'\n"
      "- {content: '#cloud-boothook\n\n    echo five', launch-index: 0}\n");
  EXPECT_TRUE(d.warnings.empty()) << d.warnings.front();
  ASSERT_EQ(d.parts.size(), 5u);
  EXPECT_EQ(d.parts[0].type, PartType::CloudConfig) << "the type says so, no marker needed";
  EXPECT_EQ(d.parts[0].content, "runcmd: [one]\n");
  EXPECT_EQ(d.parts[0].merge_type, "list(append)+dict(recurse_array)+str()");
  EXPECT_EQ(d.parts[0].label, "user-data item 1");
  EXPECT_EQ(d.parts[1].type, PartType::ShellScript) << "sniffed from #!";
  EXPECT_EQ(d.parts[1].name, "two.sh");
  EXPECT_EQ(d.parts[1].label, "user-data item 2 (two.sh)");
  EXPECT_EQ(d.parts[2].type, PartType::CloudConfig)
      << "a string item is its content; no marker means cloud-config, as in cloud-init";
  EXPECT_EQ(d.parts[2].content, "hostname: three\n");
  EXPECT_EQ(d.parts[3].type, PartType::ScriptPerBoot);
  EXPECT_EQ(d.parts[3].name, ".._four") << "no path walks out of the folder";
  EXPECT_EQ(d.parts[4].type, PartType::Boothook);
}

TEST(UserDataFormats, ArchiveFromAMimePartAndLaunchIndexFilter) {
  DecodedUserData d = decode_ok(
      mime({{"cloud-config-archive", "a.yaml",
             "- {content: 'runcmd: [zero]', launch-index: 0}\n- {content: 'runcmd: [one]', "
             "launch-index: 1}"}}));
  ASSERT_EQ(d.parts.size(), 1u);
  EXPECT_EQ(d.parts[0].content, "runcmd: [zero]");
  EXPECT_EQ(d.parts[0].label, "user-data part 1 (a.yaml) item 1");
  EXPECT_TRUE(contains(d.warnings, "item 2 (line 2): launch-index 1 is not this instance's (0)"));
}

TEST(UserDataFormats, ArchiveErrorsAreWarningsNamingTheItem) {
  DecodedUserData d = decode_ok("#cloud-config-archive\n{content: x}\n");
  EXPECT_TRUE(d.parts.empty());
  EXPECT_TRUE(contains(d.warnings, "user-data: #cloud-config-archive: expected a list of parts"));

  d = decode_ok(
      "#cloud-config-archive\n"
      "- {filename: a}\n"
      "- [1, 2]\n"
      "- {content: [1]}\n"
      "- 'runcmd: [ok]'\n");
  ASSERT_EQ(d.parts.size(), 1u) << "the good item is kept";
  EXPECT_EQ(d.parts[0].label, "user-data item 4");
  EXPECT_TRUE(contains(d.warnings, "user-data item 1 (line 2): no 'content'; skipped"));
  EXPECT_TRUE(contains(d.warnings, "user-data item 2 (line 3): expected a map with 'content'"));
  EXPECT_TRUE(contains(d.warnings, "user-data item 3 (line 4): 'content' is a list"));

  d = decode_ok("#cloud-config-archive\n- [unclosed\n");
  EXPECT_TRUE(contains(d.warnings, "#cloud-config-archive is not valid YAML"));
}

// --- #include-once ---------------------------------------------------------

struct CountingFetch {
  std::map<std::string, int> calls;
  std::function<Result<std::string>(const std::string&)> fn() {
    return [this](const std::string& url) -> Result<std::string> {
      ++calls[url];
      return "#cloud-config\nhostname: from-" + url.substr(url.rfind('/') + 1) + "\n";
    };
  }
};

TEST(UserDataFormats, IncludeOnceUrlsGoToTheOnceFetcher) {
  CountingFetch plain;
  CountingFetch once;
  UserDataOptions options;
  options.fetch = plain.fn();
  options.fetch_once = once.fn();
  decode_ok(
      "#include-once\n"
      "https://example.com/a\n"
      "#include https://example.com/b\n"
      "https://example.com/c\n"
      "#include-once https://example.com/d\n",
      options);
  EXPECT_EQ(once.calls, (std::map<std::string, int>{{"https://example.com/a", 1},
                                                    {"https://example.com/d", 1}}));
  EXPECT_EQ(plain.calls, (std::map<std::string, int>{{"https://example.com/b", 1},
                                                     {"https://example.com/c", 1}}))
      << "a line #include turns include-once off again, as in cloud-init";

  CountingFetch plain2;
  CountingFetch once2;
  options.fetch = plain2.fn();
  options.fetch_once = once2.fn();
  decode_ok(mime({{"x-include-once-url", "", "https://example.com/e"},
                  {"x-include-url", "", "https://example.com/f"}}),
            options);
  EXPECT_EQ(once2.calls, (std::map<std::string, int>{{"https://example.com/e", 1}}));
  EXPECT_EQ(plain2.calls, (std::map<std::string, int>{{"https://example.com/f", 1}}));
}

// --- the runner over two boots of one instance --------------------------------

struct Seed {
  Seed(const std::string& instance_id, const std::string& user_data) {
    testing::write_file(dir / "seed/meta-data", "instance-id: " + instance_id + "\n");
    testing::write_file(dir / "seed/user-data", user_data);
    std::filesystem::create_directories(dir / "root");
  }
  int boot(const std::function<Result<std::string>(const std::string&)>& fetch = {}) {
    // A reboot clears /run, and with it the per-boot semaphores.
    std::filesystem::remove_all(dir / "root/run");
    RunOptions options;
    options.root = dir / "root";
    options.seed_dir = dir / "seed";
    options.fetch = fetch;
    return run_stages(options);
  }
  std::string root_file(const std::string& path) const {
    return testing::exists(dir / ("root" + path)) ? testing::read_file(dir / ("root" + path)) : "";
  }
  testing::TempDir dir;
};

TEST(UserDataFormats, APerBootPartRunsEveryBootAndAPerInstancePartOnce) {
  Seed seed("i-0formats00000001",
            mime({{"x-shellscript-per-boot", "boot.sh",
                   "#!/bin/sh\necho boot >>\"$AMIBOOT_ROOT/per-boot.log\""},
                  {"x-shellscript-per-instance", "instance.sh",
                   "#!/bin/sh\necho instance >>\"$AMIBOOT_ROOT/per-instance.log\""}}));
  seed.boot();
  EXPECT_EQ(seed.root_file("/per-boot.log"), "boot\n");
  EXPECT_EQ(seed.root_file("/per-instance.log"), "instance\n");
  EXPECT_EQ(seed.root_file("/var/lib/amiboot/scripts/per-boot/boot.sh"),
            "#!/bin/sh\necho boot >>\"$AMIBOOT_ROOT/per-boot.log\"");

  seed.boot();
  EXPECT_EQ(seed.root_file("/per-boot.log"), "boot\nboot\n") << "per boot: ran again";
  EXPECT_EQ(seed.root_file("/per-instance.log"), "instance\n") << "per instance: not again";
}

TEST(UserDataFormats, IncludeOnceIsFetchedOncePerInstanceAndIncludeEveryBoot) {
  Seed seed("i-0formats00000002",
            "#include-once https://example.com/once?X-Amz-Signature=abc\n"
            "#include https://example.com/always\n");
  CountingFetch fetch;
  seed.boot(fetch.fn());
  seed.boot(fetch.fn());
  EXPECT_EQ(fetch.calls["https://example.com/once?X-Amz-Signature=abc"], 1)
      << "served from the instance's state on the second boot";
  EXPECT_EQ(fetch.calls["https://example.com/always"], 2);
  std::string dir = "/var/lib/amiboot/instances/i-0formats00000002/include-once";
  EXPECT_EQ(seed.root_file(dir + "/0"), "#cloud-config\nhostname: from-once?X-Amz-Signature=abc\n");
  EXPECT_EQ(std::filesystem::status(seed.dir / ("root" + dir + "/0")).permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // A new instance fetches again.
  testing::write_file(seed.dir / "seed/meta-data", "instance-id: i-0formats00000003\n");
  seed.boot(fetch.fn());
  EXPECT_EQ(fetch.calls["https://example.com/once?X-Amz-Signature=abc"], 2);
}

}  // namespace
}  // namespace amiboot
