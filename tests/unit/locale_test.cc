// SPDX-License-Identifier: Apache-2.0
// locale: LANG in each family's file, /etc/locale.gen and locale-gen on
// Debian and Ubuntu, nothing without the key, and every bad value with its
// position.
#include "modules/locale.h"

#include <gtest/gtest.h>

#include "agent/cloud_config.h"
#include "tests/support/module_fixture.h"
#include "tests/support/os_release_samples.h"

namespace amiboot {
namespace {

using namespace testing::os_release;

constexpr const char* kSupported =
    "ar_AE.UTF-8 UTF-8\nar_AE ISO-8859-6\nen_US.UTF-8 UTF-8\nen_US ISO-8859-1\n"
    "fr_CA.UTF-8 UTF-8\nfr_CA ISO-8859-1\nsr_RS@latin UTF-8\n";
constexpr const char* kLocaleGen =
    "# This file lists locales that you wish to have built.\n"
    "\n"
    "# ar_AE.UTF-8 UTF-8\n"
    "# en_US.UTF-8 UTF-8\n"
    "# fr_CA.UTF-8 UTF-8\n";

struct Fixture : testing::ModuleFixture {
  Fixture(const std::string& yaml, const std::string& os) : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = os;
    system.files["/usr/share/i18n/SUPPORTED"] = kSupported;
    system.files["/etc/locale.gen"] = kLocaleGen;
    system.programs = {"locale-gen"};
  }
};

RunCommand locale_gen(std::vector<std::string> argv, const std::string& locale) {
  RunCommand r{std::move(argv), "locale: locale-gen " + locale};
  r.needs_host = true;
  return r;
}

WriteFile lang_file(const std::string& path, const std::string& content) {
  return WriteFile{.path = path, .content = content, .label = "locale: LANG in " + path};
}

WriteFile locale_gen_file(const std::string& content) {
  return WriteFile{
      .path = "/etc/locale.gen", .content = content, .label = "locale: /etc/locale.gen"};
}

TEST(Locale, DebianEnablesTheLocaleGeneratesItAndSetsLang) {
  Fixture f("locale: en_US.UTF-8\n", kDebian);
  f.system.files["/etc/default/locale"] = "LANG=C.UTF-8\n";
  auto plan = f.plan("locale");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {
      locale_gen_file("# This file lists locales that you wish to have built.\n\n"
                      "# ar_AE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n# fr_CA.UTF-8 UTF-8\n"),
      locale_gen({"locale-gen", "--keep-existing"}, "en_US.UTF-8"),
      lang_file("/etc/default/locale", "LANG=en_US.UTF-8\n")};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "LANG=en_US.UTF-8 in /etc/default/locale");
}

TEST(Locale, UbuntusLocaleGenIsGivenTheName) {
  Fixture f("locale: ar_AE\n", kUbuntu);
  auto plan = f.plan("locale");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  // ar_AE is SUPPORTED's ISO-8859-6 entry, not cloud-init's guess ar_AE.UTF-8
  // (which would leave LANG=ar_AE naming a locale nobody built).
  std::vector<Action> expected = {locale_gen_file(std::string(kLocaleGen) + "ar_AE ISO-8859-6\n"),
                                  locale_gen({"locale-gen", "ar_AE"}, "ar_AE"),
                                  lang_file("/etc/default/locale", "LANG=ar_AE\n")};
  EXPECT_EQ(plan.actions, expected);
}

TEST(Locale, CAndPosixNeedNoGeneration) {
  for (const char* name : {"C.UTF-8", "C", "POSIX", "C.utf8"}) {
    Fixture f(std::string("locale: ") + name + "\n", kDebian);
    f.system.programs.clear();  // not even locale-gen is needed
    auto plan = f.plan("locale");
    ASSERT_TRUE(plan.diagnostics.empty()) << name << testing::formatted(plan.diagnostics);
    EXPECT_EQ(plan.actions, std::vector<Action>{lang_file("/etc/default/locale",
                                                          "LANG=" + std::string(name) + "\n")})
        << name;
  }
}

TEST(Locale, WithoutLocaleGenItIsAnErrorNamingTheToolAndNothingChanges) {
  Fixture f("locale: fr_CA.UTF-8\n", kDebian);
  f.system.programs.clear();
  auto plan = f.plan("locale");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:1:9: locale: locale-gen is not installed (Debian's `locales` package), so "
            "'fr_CA.UTF-8' cannot be generated; the locale is left as it is");
}

TEST(Locale, ALocaleTheImageDoesNotSupportIsAnErrorWhereItWasWritten) {
  Fixture f("write_files: []\nlocale: xx_YY.UTF-8\n", kDebian);
  auto plan = f.plan("locale");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:2:9: locale: unknown locale 'xx_YY.UTF-8': not in the image's "
            "/usr/share/i18n/SUPPORTED");
}

TEST(Locale, TheOtherFamiliesSetLangInLocaleConfKeepingTheRest) {
  for (const char* os : {kAmazon, kFedora, kRhel, kOpenSuse}) {
    Fixture f("locale: de_DE.UTF-8\n", os);
    f.system.programs.clear();  // compiled locales: nothing to generate
    f.system.files["/etc/locale.conf"] = "LANG=\"C.UTF-8\"\nLC_TIME=en_GB.UTF-8\n";
    auto plan = f.plan("locale");
    ASSERT_TRUE(plan.diagnostics.empty()) << os << testing::formatted(plan.diagnostics);
    EXPECT_EQ(plan.actions, std::vector<Action>{lang_file(
                                "/etc/locale.conf", "LANG=de_DE.UTF-8\nLC_TIME=en_GB.UTF-8\n")})
        << os;
  }
  Fixture fresh("locale: en_US.UTF-8\n", kAmazon);
  EXPECT_EQ(fresh.plan("locale").actions,
            std::vector<Action>{lang_file("/etc/locale.conf", "LANG=en_US.UTF-8\n")});
}

TEST(Locale, LocaleConfigfileIsWrittenInsteadOfTheDistributionsFile) {
  Fixture f("locale: C.UTF-8\nlocale_configfile: /etc/alternate/locale\n", kAmazon);
  EXPECT_EQ(f.plan("locale").actions,
            std::vector<Action>{lang_file("/etc/alternate/locale", "LANG=C.UTF-8\n")});
}

TEST(Locale, AlreadySetMeansNothingToDoAsInCloudInit) {
  Fixture f("locale: en_US.UTF-8\n", kDebian);
  f.system.files["/etc/default/locale"] = "# set by the image\nLANG=en_US.UTF-8\n";
  auto plan = f.plan("locale");
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.diagnostics.empty());
}

TEST(Locale, FalseOrAbsentLeavesTheLocaleAlone) {
  for (const char* yaml : {"locale: false\n", "locale: no\n", "locale: 'off'\n", "locale: 0\n",
                           "locale:\n", "runcmd: [locale]\n"}) {
    Fixture f(yaml, kDebian);  // no /etc/default/locale: cloud-init would write C.UTF-8
    auto plan = f.plan("locale");
    EXPECT_TRUE(plan.actions.empty()) << yaml;
    EXPECT_TRUE(plan.diagnostics.empty()) << yaml;
  }
  Fixture file_only("locale_configfile: /etc/default/locale\n", kDebian);
  auto plan = file_only.plan("locale");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning);
  EXPECT_EQ(plan.diagnostics[0].pos.line, 1);
}

TEST(Locale, BadValuesAreRejectedWithLineAndColumn) {
  for (auto [yaml, message] : {
           std::pair{"locale: en US\n",
                     "user-data:1:9: locale: 'en US' is not a locale name like en_US.UTF-8 or "
                     "C.UTF-8"},
           std::pair{"locale: 'en_US.UTF-8\"; rm -rf /'\n",
                     "user-data:1:9: locale: 'en_US.UTF-8\"; rm -rf /' is not a locale name like "
                     "en_US.UTF-8 or C.UTF-8"},
           std::pair{"locale: true\n",
                     "user-data:1:9: locale: true names no locale; expected one like "
                     "en_US.UTF-8, or false to leave the locale alone"},
           std::pair{"locale: [en_US]\n", "user-data:1:9: locale: expected a string, got a list"},
           std::pair{"locale: C\nlocale_configfile: etc/locale\n",
                     "user-data:2:20: locale_configfile: expected an absolute file path without "
                     "'..', got 'etc/locale'"},
           std::pair{"locale: C\nlocale_configfile: /etc/../../locale\n",
                     "user-data:2:20: locale_configfile: expected an absolute file path without "
                     "'..', got '/etc/../../locale'"},
       }) {
    Fixture f(yaml, kDebian);
    Diagnostics d;
    f.check("locale", d);
    ASSERT_EQ(d.size(), 1u) << yaml << testing::formatted(d);
    EXPECT_EQ(d[0].format(), message);
    EXPECT_TRUE(f.plan("locale").actions.empty()) << yaml;
  }
}

TEST(Locale, SupportedLineIsTheExactEntryElseTheSameCharset) {
  EXPECT_EQ(supported_line(kSupported, "ar_AE"), "ar_AE ISO-8859-6");
  EXPECT_EQ(supported_line(kSupported, "en_US.UTF-8"), "en_US.UTF-8 UTF-8");
  EXPECT_EQ(supported_line(kSupported, "en_US.utf8"), "en_US.UTF-8 UTF-8");
  EXPECT_EQ(supported_line(kSupported, "sr_RS@latin"), "sr_RS@latin UTF-8");
  EXPECT_EQ(supported_line(kSupported, "en_US.ISO-8859-15"), "");
  EXPECT_EQ(supported_line(kSupported, "xx_YY"), "");
}

TEST(Locale, LocaleGenKeepsEveryOtherLine) {
  EXPECT_EQ(enable_in_locale_gen("# a comment\n#  en_US.UTF-8   UTF-8\nde_DE.UTF-8 UTF-8\n",
                                 "en_US.UTF-8 UTF-8"),
            "# a comment\nen_US.UTF-8 UTF-8\nde_DE.UTF-8 UTF-8\n");
  EXPECT_EQ(enable_in_locale_gen("en_US.UTF-8 UTF-8\n", "en_US.UTF-8 UTF-8"),
            "en_US.UTF-8 UTF-8\n");
  EXPECT_EQ(enable_in_locale_gen("", "fr_CA ISO-8859-1"), "fr_CA ISO-8859-1\n");
}

TEST(Locale, SetLangReplacesOnlyLang) {
  EXPECT_EQ(set_lang("LANGUAGE=en_US:en\nexport LANG=C\nLC_ALL=\nLANG=POSIX\n", "de_DE.UTF-8"),
            "LANGUAGE=en_US:en\nLANG=de_DE.UTF-8\nLC_ALL=\n");
  EXPECT_EQ(set_lang("# no LANG yet\n", "C.UTF-8"), "# no LANG yet\nLANG=C.UTF-8\n");
}

// cloud-init's doc/module-docs/cc_locale/example{1,2,3}.yaml.
TEST(Locale, CloudInitsDocumentedExamplesAreAcceptedAndActedOn) {
  struct Example {
    std::string yaml;
    std::vector<Action> actions;
  };
  const std::vector<Example> examples = {
      {"#cloud-config\nlocale: ar_AE\n",
       {locale_gen_file(std::string(kLocaleGen) + "ar_AE ISO-8859-6\n"),
        locale_gen({"locale-gen", "--keep-existing"}, "ar_AE"),
        lang_file("/etc/default/locale", "LANG=ar_AE\n")}},
      {"#cloud-config\nlocale: fr_CA\nlocale_configfile: /etc/alternate_path/locale\n",
       {locale_gen_file(std::string(kLocaleGen) + "fr_CA ISO-8859-1\n"),
        locale_gen({"locale-gen", "--keep-existing"}, "fr_CA"),
        lang_file("/etc/alternate_path/locale", "LANG=fr_CA\n")}},
      {"#cloud-config\nlocale: false\n", {}},
  };
  for (const auto& [yaml, actions] : examples) {
    EXPECT_TRUE(testing::validates_cleanly(yaml));
    Fixture f(yaml, kDebian);
    auto plan = f.plan("locale");
    EXPECT_TRUE(plan.diagnostics.empty()) << yaml << testing::formatted(plan.diagnostics);
    EXPECT_EQ(plan.actions, actions) << yaml;
  }
}

}  // namespace
}  // namespace amiboot
