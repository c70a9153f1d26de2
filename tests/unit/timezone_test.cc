// SPDX-License-Identifier: Apache-2.0
// timezone: /etc/localtime linked into the target's zoneinfo, /etc/timezone
// on Debian and Ubuntu, and every bad zone named with its position.
#include "modules/timezone.h"

#include <gtest/gtest.h>

#include "agent/cloud_config.h"
#include "tests/support/module_fixture.h"
#include "tests/support/os_release_samples.h"

namespace amiboot {
namespace {

using namespace testing::os_release;

struct Fixture : testing::ModuleFixture {
  Fixture(const std::string& yaml, const std::string& os) : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = os;
    for (const char* zone : {"Europe/Berlin", "America/New_York", "Etc/GMT+5", "UTC"}) {
      system.files[std::string("/usr/share/zoneinfo/") + zone] = "TZif2";
    }
  }
};

std::vector<Action> link_actions(const std::string& zone) {
  return {MakeSymlink{"/etc/localtime", "../usr/share/zoneinfo/" + zone,
                      "timezone: /etc/localtime -> " + zone}};
}

WriteFile etc_timezone(const std::string& zone) {
  return WriteFile{
      .path = "/etc/timezone", .content = zone + "\n", .label = "timezone: /etc/timezone"};
}

TEST(Timezone, DebianAndUbuntuWriteEtcTimezoneAndLinkLocaltime) {
  for (const char* os : {kDebian, kUbuntu}) {
    Fixture f("timezone: Europe/Berlin\n", os);
    auto plan = f.plan("timezone");
    ASSERT_TRUE(plan.diagnostics.empty()) << os;
    std::vector<Action> expected = {etc_timezone("Europe/Berlin")};
    for (auto& a : link_actions("Europe/Berlin")) {
      expected.push_back(a);
    }
    EXPECT_EQ(plan.actions, expected) << os;
    EXPECT_EQ(plan.summary, "time zone Europe/Berlin");
  }
}

TEST(Timezone, TheRedHatAndSuseFamiliesOnlyLinkLocaltime) {
  for (const char* os : {kAmazon, kFedora, kRhel, kSles}) {
    Fixture f("timezone: Etc/GMT+5\n", os);
    auto plan = f.plan("timezone");
    ASSERT_TRUE(plan.diagnostics.empty()) << os;
    EXPECT_EQ(plan.actions, link_actions("Etc/GMT+5")) << os;
  }
}

TEST(Timezone, TheLinkIsRelativeAsSystemdMakesIt) {
  Fixture f("timezone: UTC\n", kAmazon);
  auto plan = f.plan("timezone");
  ASSERT_EQ(plan.actions.size(), 1u);
  const auto& link = std::get<MakeSymlink>(plan.actions[0]);
  EXPECT_EQ(link.link, "/etc/localtime");
  EXPECT_EQ(link.target, "../usr/share/zoneinfo/UTC");  // link text: it also holds in a root
}

TEST(Timezone, ASecondRunLeavesEtcTimezoneAlone) {
  Fixture f("timezone: Europe/Berlin\n", kDebian);
  f.system.files["/etc/timezone"] = "Europe/Berlin\n";
  EXPECT_EQ(f.plan("timezone").actions, link_actions("Europe/Berlin"));
}

TEST(Timezone, AnUnknownZoneIsAnErrorNamingItWhereItWasWritten) {
  Fixture f("runcmd: [date]\ntimezone: Mars/Olympus_Mons\n", kDebian);
  auto plan = f.plan("timezone");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:2:11: timezone: unknown time zone 'Mars/Olympus_Mons': the image has no "
            "/usr/share/zoneinfo/Mars/Olympus_Mons (is tzdata installed?)");
}

TEST(Timezone, AFolderOfZonesIsNoZone) {
  Fixture f("timezone: Europe\n", kDebian);
  auto plan = f.plan("timezone");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].pos.line, 1);
  EXPECT_NE(plan.diagnostics[0].message.find("unknown time zone 'Europe'"), std::string::npos);
}

TEST(Timezone, BadNamesAreRejectedWithLineAndColumn) {
  for (auto [yaml, message] : {
           std::pair{"timezone: ''\n",
                     "user-data:1:11: timezone: expected a zone name like Europe/Berlin, got an "
                     "empty string"},
           std::pair{"timezone: ../../etc/shadow\n",
                     "user-data:1:11: timezone: '../../etc/shadow' is not a zone name like "
                     "Europe/Berlin (empty, '.' or '..' part)"},
           std::pair{"timezone: Europe/../../../etc/shadow\n",
                     "user-data:1:11: timezone: 'Europe/../../../etc/shadow' is not a zone name "
                     "like Europe/Berlin (empty, '.' or '..' part)"},
           std::pair{"timezone: /etc/localtime\n",
                     "user-data:1:11: timezone: '/etc/localtime' is a path; expected a zone name "
                     "relative to /usr/share/zoneinfo"},
           std::pair{"timezone: Europe//Berlin\n",
                     "user-data:1:11: timezone: 'Europe//Berlin' is not a zone name like "
                     "Europe/Berlin (empty, '.' or '..' part)"},
           std::pair{"timezone: 'Europe/Berlin\nx'\n",
                     "user-data:1:11: timezone: 'Europe/Berlin x' is not a zone name like "
                     "Europe/Berlin (letters, digits, '_', '-', '+' and '.' between '/')"},
           std::pair{"timezone: [Europe/Berlin]\n",
                     "user-data:1:11: timezone: expected a string, got a list"},
       }) {
    Fixture f(yaml, kDebian);
    Diagnostics d;
    f.check("timezone", d);
    ASSERT_EQ(d.size(), 1u) << yaml;
    EXPECT_EQ(d[0].format(), message);
    EXPECT_TRUE(f.plan("timezone").actions.empty()) << yaml;
  }
}

TEST(Timezone, AbsentOrNullPlansNothing) {
  EXPECT_TRUE(Fixture("runcmd: [date]\n", kDebian).plan("timezone").actions.empty());
  EXPECT_TRUE(Fixture("timezone:\n", kDebian).plan("timezone").actions.empty());
}

// cloud-init's doc/module-docs/cc_timezone/example1.yaml.
TEST(Timezone, CloudInitsDocumentedExampleIsAcceptedAndActedOn) {
  const std::string example = "#cloud-config\ntimezone: America/New_York\n";
  EXPECT_TRUE(testing::validates_cleanly(example));
  Fixture f(example, kUbuntu);
  auto plan = f.plan("timezone");
  ASSERT_TRUE(plan.diagnostics.empty());
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.actions[0], Action(etc_timezone("America/New_York")));
  EXPECT_EQ(std::get<MakeSymlink>(plan.actions[1]).target,
            "../usr/share/zoneinfo/America/New_York");
}

}  // namespace
}  // namespace amiboot
