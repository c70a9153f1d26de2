// SPDX-License-Identifier: Apache-2.0
// apt_configure: cloud-init's `apt` key, keys in /etc/apt/keyrings with
// signed-by, deb822 or one-line by release, $NAME substitution, and the
// index update after a source is added.
#include "modules/apt_configure.h"

#include <gtest/gtest.h>

#include "agent/core/codecs.h"
#include "agent/core/strings.h"
#include "modules/apt_sources.h"
#include "modules/openpgp_key.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

// A real ed25519 public key (gpg --quick-gen-key, gpg --export --armor).
constexpr const char* kKey =
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
    "\n"
    "mDMEawvW7hYJKwYBBAHaRw8BAQdAxf6I8AoyrCsQjFXL/4X4jCv6wOYH0ZZDd0dA\n"
    "oWOf5ia0I2FtaWJvb3QgdGVzdCA8dGVzdEBhbWlib290LmludmFsaWQ+iJAEExYI\n"
    "ADgWIQR25gnHztpDk60mWqDw2yOLCnRoeQUCawvW7gIbAwULCQgHAgYVCgkICwIE\n"
    "FgIDAQIeAQIXgAAKCRDw2yOLCnRoeZpMAQD3PUQQRz2tDy9Wq4D2jQWOLNQRdr9V\n"
    "DclV20figarpDAEA9OIFXGXF7mDYeYJVoMfp/ADP37GZBTmKAuKJpkuuRQc=\n"
    "=9E4O\n"
    "-----END PGP PUBLIC KEY BLOCK-----\n";

constexpr const char* kDebian12 = "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";
constexpr const char* kDebian11 = "ID=debian\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\n";
constexpr const char* kUbuntu2204 =
    "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n";
constexpr const char* kUbuntu2404 =
    "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\nVERSION_CODENAME=noble\n";

std::string indented(const std::string& text, const std::string& pad) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t nl = text.find('\n', i);
    out += pad + text.substr(i, nl - i) + "\n";
    i = nl + 1;
  }
  return out;
}

std::string with_key(const std::string& head) {
  return head + indented(kKey, "        ");
}

struct Fixture : testing::ModuleFixture {
  Fixture(const std::string& yaml, const std::string& os) : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = os;
    metadata.region = "eu-west-1";
  }
};

template <class T>
std::vector<T> only(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (std::holds_alternative<T>(a)) {
      out.push_back(std::get<T>(a));
    }
  }
  return out;
}

const WriteFile* written(const PlanResult& plan, const std::string& path) {
  for (const auto& a : plan.actions) {
    if (const auto* w = std::get_if<WriteFile>(&a); w != nullptr && w->path == path) {
      return w;
    }
  }
  return nullptr;
}

TEST(AptConfigure, ASourceWithAKeyIsSignedByItsKeyringAsDeb822OnDebian12) {
  Fixture f(with_key("apt:\n  sources:\n    vendor:\n      source: deb [arch=amd64] "
                     "http://apt.example.com $RELEASE main contrib\n      key: |\n"),
            kDebian12);
  auto plan = f.plan("apt_configure");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  ASSERT_EQ(plan.actions.size(), 4u);
  EXPECT_EQ(plan.actions[0],
            Action(MakeDir{"/etc/apt/keyrings", 0755, "root", "apt: /etc/apt/keyrings"}));
  EXPECT_EQ(plan.actions[1], Action(WriteFile{.path = "/etc/apt/keyrings/vendor.asc",
                                              .content = kKey,
                                              .label = "apt: key /etc/apt/keyrings/vendor.asc"}));
  EXPECT_EQ(
      plan.actions[2],
      Action(WriteFile{.path = "/etc/apt/sources.list.d/vendor.sources",
                       .content = "Types: deb\n"
                                  "URIs: http://apt.example.com\n"
                                  "Suites: bookworm\n"
                                  "Components: main contrib\n"
                                  "Signed-By: /etc/apt/keyrings/vendor.asc\n"
                                  "Architectures: amd64\n",
                       .append = true,
                       .label = "apt: sources.vendor /etc/apt/sources.list.d/vendor.sources"}));
  auto update = std::get<ManagePackages>(plan.actions[3]);
  EXPECT_EQ(update.manager, "apt");
  EXPECT_TRUE(update.update);
  EXPECT_TRUE(update.packages.empty());
}

TEST(AptConfigure, OneLineListsBeforeDebian12AndUbuntu2404) {
  const std::string yaml = with_key(
      "apt:\n  sources:\n    vendor:\n      source: deb http://apt.example.com $RELEASE main\n"
      "      key: |\n");
  struct Case {
    const char* os;
    const char* path;
    const char* content;
  };
  for (const Case& c :
       {Case{kDebian11, "/etc/apt/sources.list.d/vendor.list",
             "deb [signed-by=/etc/apt/keyrings/vendor.asc] http://apt.example.com bullseye main\n"},
        Case{kUbuntu2204, "/etc/apt/sources.list.d/vendor.list",
             "deb [signed-by=/etc/apt/keyrings/vendor.asc] http://apt.example.com jammy main\n"},
        Case{kUbuntu2404, "/etc/apt/sources.list.d/vendor.sources",
             "Types: deb\nURIs: http://apt.example.com\nSuites: noble\nComponents: main\n"
             "Signed-By: /etc/apt/keyrings/vendor.asc\n"},
        Case{kDebian12, "/etc/apt/sources.list.d/vendor.sources",
             "Types: deb\nURIs: http://apt.example.com\nSuites: bookworm\nComponents: main\n"
             "Signed-By: /etc/apt/keyrings/vendor.asc\n"}}) {
    Fixture f(yaml, c.os);
    auto plan = f.plan("apt_configure");
    ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
    const WriteFile* w = written(plan, c.path);
    ASSERT_NE(w, nullptr) << c.os;
    EXPECT_EQ(w->content, c.content) << c.os;
  }
}

TEST(AptConfigure, AListFilenameKeepsTheOneLineFormatOnDeb822Releases) {
  Fixture f(with_key("apt:\n  sources:\n    vendor:\n      filename: vendor.list\n"
                     "      source: deb [signed-by=$KEY_FILE] http://apt.example.com $RELEASE "
                     "main\n      key: |\n"),
            kDebian12);
  auto plan = f.plan("apt_configure");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  const WriteFile* w = written(plan, "/etc/apt/sources.list.d/vendor.list");
  ASSERT_NE(w, nullptr);
  // $KEY_FILE is the keyring; signed-by is not added twice.
  EXPECT_EQ(w->content,
            "deb [signed-by=/etc/apt/keyrings/vendor.asc] http://apt.example.com bookworm main\n");
}

TEST(AptConfigure, MirrorReleaseAndSecurityAreSubstitutedAsCloudInitDoes) {
  Fixture f(
      "apt:\n  primary:\n    - arches: [default]\n      uri: http://mirror.example.com/debian\n"
      "  security:\n    - arches: [default]\n      uri: http://sec.example.com/debian-security\n"
      "  preserve_sources_list: true\n"
      "  sources:\n    m:\n      filename: m.list\n      source: |\n"
      "        deb $MIRROR $RELEASE-updates main\n"
      "        deb ${SECURITY} ${RELEASE}-security main\n"
      "        deb $PRIMARY $UNKNOWN main\n",
      kDebian12);
  f.system.files["/etc/apt/sources.list.d/m.list"] = "";
  auto plan = f.plan("apt_configure");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  const WriteFile* w = written(plan, "/etc/apt/sources.list.d/m.list");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->content,
            "deb http://mirror.example.com/debian bookworm-updates main\n"
            "deb http://sec.example.com/debian-security bookworm-security main\n"
            "deb http://mirror.example.com/debian $UNKNOWN main\n");
}

TEST(AptConfigure, PrimaryRewritesTheDistributionSourcesWithCloudInitsTemplate) {
  Fixture f("apt:\n  primary:\n    - arches: [amd64]\n      uri: http://m.example.com/ubuntu/\n",
            kUbuntu2404);
  f.system.files["/etc/apt/sources.list"] = "deb http://old/ubuntu noble main\n";
  auto plan = f.plan("apt_configure");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  const WriteFile* w = written(plan, "/etc/apt/sources.list.d/ubuntu.sources");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->content,
            "Types: deb\nURIs: http://m.example.com/ubuntu/\n"
            "Suites: noble noble-updates noble-backports\n"
            "Components: main universe restricted multiverse\n"
            "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n\n"
            "Types: deb\nURIs: http://m.example.com/ubuntu/\nSuites: noble-security\n"
            "Components: main universe restricted multiverse\n"
            "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n");
  const WriteFile* list = written(plan, "/etc/apt/sources.list");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->content,
            "# Ubuntu sources have moved to /etc/apt/sources.list.d/ubuntu.sources\n");
}

TEST(AptConfigure, DisableSuitesCommentsTheImagesOwnSourcesOut) {
  Fixture f("apt:\n  disable_suites: [updates, backports]\n", kDebian12);
  f.system.files["/etc/apt/sources.list.d/debian.sources"] =
      "Types: deb\nURIs: http://deb.debian.org/debian\n"
      "Suites: bookworm bookworm-updates\nComponents: main\n\n"
      "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\n"
      "Components: main\n";
  f.system.files["/etc/apt/sources.list"] =
      "deb http://deb.debian.org/debian bookworm main\n"
      "deb [arch=amd64] http://deb.debian.org/debian bookworm-updates main\n";
  auto plan = f.plan("apt_configure");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  const WriteFile* deb822 = written(plan, "/etc/apt/sources.list.d/debian.sources");
  ASSERT_NE(deb822, nullptr);
  EXPECT_EQ(deb822->content,
            "Types: deb\nURIs: http://deb.debian.org/debian\n"
            "# cloud-init disable_suites redacted: Suites: bookworm bookworm-updates\n"
            "Suites: bookworm\nComponents: main\n\n"
            "## Entry disabled by cloud-init, due to disable_suites\n"
            "# disabled by cloud-init: Types: deb\n"
            "# disabled by cloud-init: URIs: http://deb.debian.org/debian\n"
            "# disabled by cloud-init: Suites: bookworm-backports\n"
            "# disabled by cloud-init: Components: main\n");
  const WriteFile* list = written(plan, "/etc/apt/sources.list");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->content,
            "deb http://deb.debian.org/debian bookworm main\n"
            "# suite disabled by cloud-init: deb [arch=amd64] http://deb.debian.org/debian "
            "bookworm-updates main\n");
}

TEST(AptConfigure, ProxiesConfAndDebconfSelections) {
  Fixture f(
      "apt:\n  proxy: http://p:3128\n  https_proxy: http://s:3128\n"
      "  conf: |\n    APT::Get::Assume-Yes \"true\";\n"
      "  debconf_selections:\n    b: \"tzdata tzdata/Areas select Europe\"\n"
      "    a: \"openssh-server openssh-server/permit-root-login boolean false\"\n",
      kDebian12);
  f.system.files["/var/lib/dpkg/info/openssh-server.list"] = "";
  auto plan = f.plan("apt_configure");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  auto commands = only<RunCommand>(plan.actions);
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0].argv, (std::vector<std::string>{"chroot", "/", "debconf-set-selections"}));
  // Sorted by name, as cloud-init joins them.
  EXPECT_EQ(commands[0].input,
            "openssh-server openssh-server/permit-root-login boolean false\n"
            "tzdata tzdata/Areas select Europe\n");
  EXPECT_EQ(commands[1].argv,
            (std::vector<std::string>{"chroot", "/", "dpkg-reconfigure",
                                      "--frontend=noninteractive", "openssh-server"}));
  const WriteFile* proxy = written(plan, "/etc/apt/apt.conf.d/90cloud-init-aptproxy");
  ASSERT_NE(proxy, nullptr);
  EXPECT_EQ(proxy->content,
            "Acquire::http::Proxy \"http://p:3128\";\nAcquire::https::Proxy \"http://s:3128\";\n");
  ASSERT_NE(written(plan, "/etc/apt/apt.conf.d/94cloud-init-config"), nullptr);
  // Configuration alone adds no repository: no index update.
  EXPECT_TRUE(only<ManagePackages>(plan.actions).empty());
}

TEST(AptConfigure, AKeyIdIsFetchedFromItsKeyserverWhenTheActionRuns) {
  Fixture f(
      "apt:\n  sources:\n    v:\n      keyid: 'B59D 5F15 97A5 04B7 E230  6DCA 0620 BBCF "
      "0368 3F77'\n      keyserver: hkp://keys.example.com\n"
      "      source: deb http://apt.example.com $RELEASE main\n",
      kDebian11);
  auto plan = f.plan("apt_configure");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  auto fetches = only<FetchFile>(plan.actions);
  ASSERT_EQ(fetches.size(), 1u);
  EXPECT_EQ(fetches[0].path, "/etc/apt/keyrings/v.asc");
  EXPECT_EQ(fetches[0].url,
            "http://keys.example.com:11371/pks/lookup?op=get&options=mr&search="
            "0xB59D5F1597A504B7E2306DCA0620BBCF03683F77");
  EXPECT_EQ(fetches[0].label,
            "apt: key B59D5F1597A504B7E2306DCA0620BBCF03683F77 from keys.example.com:11371");
  EXPECT_EQ(keyserver_url("", "0368 3F77"),
            "https://keyserver.ubuntu.com/pks/lookup?op=get&options=mr&search=0x0368 3F77");
  EXPECT_EQ(keyserver_url("hkps://k.example.com", "ABCD1234"),
            "https://k.example.com/pks/lookup?op=get&options=mr&search=0xABCD1234");
}

TEST(AptConfigure, BadKeysAreRejectedBeforeAnythingIsWritten) {
  struct Case {
    std::string key;
    const char* message;
  };
  std::string body = std::string(kKey).substr(std::string(kKey).find("\n\n") + 2);
  for (const Case& c : {
           Case{"not a key", "the data does not start with an OpenPGP packet"},
           Case{"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxx\n-----END PGP PRIVATE KEY "
                "BLOCK-----\n",
                "this is a private key block"},
           Case{"-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n",
                "got another armour type"},
           Case{std::string(kKey).substr(0, 200), "the key is cut short"},
           Case{"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY "
                "BLOCK-----\n",
                "not base64"},
       }) {
    Fixture f(
        "apt:\n  sources:\n    v:\n      source: deb http://a.example.com x main\n"
        "      key: placeholder\n",
        kDebian12);
    f.config.get("apt")->get("sources")->get("v")->get("key")->scalar = c.key;
    Diagnostics d;
    f.check("apt_configure", d);
    ASSERT_TRUE(has_errors(d)) << c.key;
    EXPECT_EQ(d[0].path, "apt.sources.v.key");
    EXPECT_NE(d[0].message.find(c.message), std::string::npos) << d[0].message;
    EXPECT_EQ(d[0].message.find("mDME"), std::string::npos) << "the message quotes the key";
  }
  EXPECT_EQ(openpgp_public_key_problem(kKey), std::nullopt);
  EXPECT_EQ(openpgp_encoding(kKey), OpenPgpEncoding::Armored);
}

TEST(AptConfigure, ABinaryKeyIsWrittenAsGpg) {
  // The armored key's packets, as `gpg --export` writes them.
  std::string text = kKey;
  std::size_t start = text.find("\n\n") + 2;
  std::string body;
  for (const auto& line : split_lines(text.substr(start))) {
    if (!line.starts_with("=") && !line.starts_with("-----")) {
      body += line;
    }
  }
  auto bytes = base64_decode(body);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(openpgp_public_key_problem(*bytes), std::nullopt);
  EXPECT_EQ(openpgp_encoding(*bytes), OpenPgpEncoding::Binary);
  Fixture f(
      "apt:\n  sources:\n    v:\n      source: deb http://a.example.com x main\n"
      "      key: placeholder\n",
      kDebian11);
  f.config.get("apt")->get("sources")->get("v")->get("key")->scalar = *bytes;
  auto plan = f.plan("apt_configure");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  const WriteFile* w = written(plan, "/etc/apt/sources.list.d/v.list");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->content, "deb [signed-by=/etc/apt/keyrings/v.gpg] http://a.example.com x main\n");
  ASSERT_NE(written(plan, "/etc/apt/keyrings/v.gpg"), nullptr);
}

TEST(AptConfigure, BadKeyIdsFileNamesAndShapesAreErrorsWithPositions) {
  struct Case {
    const char* yaml;
    const char* path;
    const char* message;
  };
  for (const Case& c : {
           Case{"apt:\n  sources:\n    v:\n      keyid: xyz\n", "apt.sources.v.keyid",
                "expected a key id or fingerprint"},
           Case{"apt:\n  sources:\n    v:\n      filename: ../../etc/passwd\n      source: deb "
                "http://a x main\n",
                "apt.sources.v.filename", "without '..'"},
           Case{"apt:\n  sources:\n    a/b:\n      source: deb http://a x main\n",
                "apt.sources.a/b", "expected no '/'"},
           Case{"apt: [1]\n", "apt", "expected a map"},
           Case{"apt:\n  primary:\n    - uri: http://m\n", "apt.primary[0]", "expected arches"},
           Case{"apt:\n  proxy: \"http://p\\\"\"\n", "apt", "may not hold"},
       }) {
    Fixture f(c.yaml, kDebian12);
    Diagnostics d;
    f.check("apt_configure", d);
    ASSERT_TRUE(has_errors(d)) << c.yaml;
    EXPECT_EQ(d[0].path, c.path) << c.yaml;
    EXPECT_NE(d[0].message.find(c.message), std::string::npos) << d[0].message;
    EXPECT_GT(d[0].pos.line, 0) << c.yaml;
  }
}

TEST(AptConfigure, ASecondRunAddsNothing) {
  Fixture f(with_key("apt:\n  sources:\n    vendor:\n      source: deb http://apt.example.com "
                     "$RELEASE main\n      key: |\n"),
            kDebian12);
  auto first = f.plan("apt_configure");
  for (const auto& a : first.actions) {
    if (const auto* w = std::get_if<WriteFile>(&a)) {
      f.system.files[w->path] = w->content;
    }
  }
  auto second = f.plan("apt_configure");
  EXPECT_EQ(only<WriteFile>(second.actions).size(), 0u);
  EXPECT_TRUE(only<ManagePackages>(second.actions).empty());
}

TEST(AptConfigure, NotAnAptSystemIsAWarning) {
  Fixture f("apt:\n  conf: x\n", "ID=fedora\n");
  auto plan = f.plan("apt_configure");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning);
}

TEST(AptSources, Deb822ByRelease) {
  EXPECT_TRUE(uses_deb822_sources(parse_os_release(kDebian12)));
  EXPECT_FALSE(uses_deb822_sources(parse_os_release(kDebian11)));
  EXPECT_FALSE(uses_deb822_sources(parse_os_release(kUbuntu2204)));
  EXPECT_TRUE(uses_deb822_sources(parse_os_release(kUbuntu2404)));
  EXPECT_TRUE(uses_deb822_sources(parse_os_release("ID=debian\nVERSION_CODENAME=trixie\n")));
  EXPECT_FALSE(uses_deb822_sources(parse_os_release("ID=amzn\nVERSION_ID=2023\n")));
}

TEST(AptSources, OneLineOptionsBecomeDeb822Fields) {
  std::string error;
  auto out = one_line_to_deb822(
      "# comment\ndeb-src [arch=amd64,arm64 lang=de trusted=yes] http://a/ x main\n", error);
  ASSERT_TRUE(out) << error;
  EXPECT_EQ(*out,
            "Types: deb-src\nURIs: http://a/\nSuites: x\nComponents: main\n"
            "Architectures: amd64 arm64\nLanguages: de\nTrusted: yes\n");
  EXPECT_FALSE(one_line_to_deb822("rpm http://a x\n", error));
  EXPECT_NE(error.find("expected 'deb"), std::string::npos);
}

TEST(AptSources, TheTemplaterLeavesUnknownNamesAlone) {
  EXPECT_EQ(render_apt_template("$RELEASE-updates ${RELEASE} $RELEASEX $ {RELEASE} $$",
                                {{"RELEASE", "noble"}}),
            "noble-updates noble $RELEASEX $ {RELEASE} $$");
}

}  // namespace
}  // namespace amiboot
