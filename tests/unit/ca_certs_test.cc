// SPDX-License-Identifier: Apache-2.0
// ca_certs: every certificate checked as PEM before anything is written,
// then written where each family's trust store takes it and the image's
// update tool run in the image (cloud-init's cc_ca_certs).
#include "modules/ca_certs.h"

#include <gtest/gtest.h>

#include "agent/cloud_config.h"
#include "tests/support/module_fixture.h"
#include "tests/support/os_release_samples.h"

namespace amiboot {
namespace {

using namespace testing::os_release;

// Two self-signed test CAs (openssl req -x509, P-256); the first is
// tests/fixtures/test-ca.pem.
const std::string kCa1 =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBijCCATCgAwIBAgITC41n1UlpfeOFGF2wNq4dlnwZLjAKBggqhkjOPQQDAjAa\n"
    "MRgwFgYDVQQDDA9hbWlib290IHRlc3QgQ0EwIBcNMjYxMTI5MDQzMjQxWhgPMjEy\n"
    "NjExMDUwNDMyNDFaMBoxGDAWBgNVBAMMD2FtaWJvb3QgdGVzdCBDQTBZMBMGByqG\n"
    "SM49AgEGCCqGSM49AwEHA0IABDkk4nQtavTyieoKUGI3kb32BBIuTgiPAVSMJZa1\n"
    "pfRCKVh+wKi96rjyNsFa9EmpYA2F7r4r5blkZeWnjcDr0BOjUzBRMB0GA1UdDgQW\n"
    "BBSQCsHs0WdPEjgR/fXss/SeIZcZOjAfBgNVHSMEGDAWgBSQCsHs0WdPEjgR/fXs\n"
    "s/SeIZcZOjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIGdsO9Cm\n"
    "sL21f8SCqFZUQGbyqM0hXomvUs+afqh2DxX1AiEArwC4YZBeeJkXndEKsKon7Yy5\n"
    "0H+soKe1gCr4R0srmFw=\n"
    "-----END CERTIFICATE-----\n";
const std::string kCa2 =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjzCCATWgAwIBAgIUZY8HSyt/spoTL6S0n9nsMBCz9DYwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRYW1pYm9vdCB0ZXN0IENBIDIwIBcNMjYxMTI5MDQzMjQxWhgP\n"
    "MjEyNjExMDUwNDMyNDFaMBwxGjAYBgNVBAMMEWFtaWJvb3QgdGVzdCBDQSAyMFkw\n"
    "EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAjrh2XC2dDa85iD+LBqxMpTLJCFVLzx9\n"
    "K/sDS/pbMAPuGR8zUSA3JtTQbPT2Ow+jlvZqWgnPkA+53ZbBI7DazKNTMFEwHQYD\n"
    "VR0OBBYEFM8b5P2n2+PlpoLzZQb8pRpIBpdtMB8GA1UdIwQYMBaAFM8b5P2n2+Pl\n"
    "poLzZQb8pRpIBpdtMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIh\n"
    "AMwGsAbHRaxY6cTp48lItAlXr3Df8ElXiLtRzx0/Mcj8AiBknEcKPmgaSnzFYmry\n"
    "w4Z0Z7KVH8LLqp06orOvR4GkwQ==\n"
    "-----END CERTIFICATE-----\n";

// A PEM as a YAML block scalar item of `trusted`, indented for it.
std::string item(const std::string& pem) {
  std::string out = "  - |\n";
  std::size_t start = 0;
  while (start < pem.size()) {
    std::size_t end = pem.find('\n', start);
    out += "    " + pem.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml, const std::string& os = kDebian) : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = os;
    system.files["/usr/sbin/update-ca-certificates"] = "";
    system.files["/usr/bin/update-ca-trust"] = "";
    system.files["/usr/bin/debconf-set-selections"] = "";
  }
};

RunCommand in_image(const std::string& program, const std::string& label) {
  RunCommand r{{"chroot", "/", program}, label};
  r.target_paths = {1};
  return r;
}

WriteFile cert(const std::string& path, const std::string& pem, int index) {
  return WriteFile{path,        pem,   0644,
                   "root:root", false, "ca_certs: trusted[" + std::to_string(index) + "]"};
}

TEST(CaCerts, DebianWritesEachCertificateThenRunsUpdateCaCertificatesInTheImage) {
  Fixture f("ca_certs:\n  trusted:\n" + item(kCa1) + item(kCa2));
  auto plan = f.plan("ca_certs");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {
      cert("/usr/local/share/ca-certificates/cloud-init-ca-cert-1.crt", kCa1, 0),
      cert("/usr/local/share/ca-certificates/cloud-init-ca-cert-2.crt", kCa2, 1),
      in_image("/usr/sbin/update-ca-certificates", "ca_certs: update-ca-certificates")};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "2 certificate(s) added, update-ca-certificates");
}

TEST(CaCerts, TheRedHatFamilyUsesItsAnchorsAndUpdateCaTrust) {
  for (const char* os : {kAmazon, "ID=\"rhel\"\nID_LIKE=\"fedora\"\n", "ID=fedora\n"}) {
    Fixture f("ca_certs:\n  trusted:\n" + item(kCa1), os);
    auto plan = f.plan("ca_certs");
    ASSERT_TRUE(plan.diagnostics.empty()) << os << testing::formatted(plan.diagnostics);
    std::vector<Action> expected = {
        cert("/etc/pki/ca-trust/source/anchors/cloud-init-ca-cert-1.crt", kCa1, 0),
        in_image("/usr/bin/update-ca-trust", "ca_certs: update-ca-trust")};
    EXPECT_EQ(plan.actions, expected) << os;
  }
}

TEST(CaCerts, SuseUsesItsAnchorsAndUpdateCaCertificates) {
  Fixture f("ca_certs:\n  trusted:\n" + item(kCa2), kOpenSuse);
  auto plan = f.plan("ca_certs");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {
      cert("/etc/pki/trust/anchors/cloud-init-ca-cert-1.crt", kCa2, 0),
      in_image("/usr/sbin/update-ca-certificates", "ca_certs: update-ca-certificates")};
  EXPECT_EQ(plan.actions, expected);
}

TEST(CaCerts, RemoveDefaultsOnDebianDeselectsEveryEntryAndTellsDebconf) {
  Fixture f("ca_certs:\n  remove_defaults: true\n  trusted:\n" + item(kCa1));
  f.system.files["/etc/ca-certificates.conf"] =
      "# This file lists certificates that you wish to use or to ignore.\n"
      "#\n"
      "mozilla/ACCVRAIZ1.crt\n"
      "!mozilla/Old_CA.crt\n"
      "\n"
      "mozilla/ISRG_Root_X1.crt\n";
  auto plan = f.plan("ca_certs");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  RunCommand debconf = in_image("/usr/bin/debconf-set-selections",
                                "ca_certs: remove_defaults: debconf-set-selections");
  debconf.input = "ca-certificates ca-certificates/trust_new_crts select no\n";
  std::vector<Action> expected = {
      WriteFile{"/etc/ca-certificates.conf",
                "# This file lists certificates that you wish to use or to ignore.\n"
                "#\n"
                "# Modified by cloud-init to deselect certs due to user-data\n"
                "!mozilla/ACCVRAIZ1.crt\n"
                "!mozilla/Old_CA.crt\n"
                "\n"
                "!mozilla/ISRG_Root_X1.crt\n",
                0644, "root:root", false, "ca_certs: remove_defaults: /etc/ca-certificates.conf"},
      debconf, cert("/usr/local/share/ca-certificates/cloud-init-ca-cert-1.crt", kCa1, 0),
      in_image("/usr/sbin/update-ca-certificates", "ca_certs: update-ca-certificates")};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "1 certificate(s) added, the defaults removed, update-ca-certificates");
  // Deselected once: a second run leaves the file as it is.
  std::string once = std::get<WriteFile>(plan.actions[0]).content;
  EXPECT_EQ(deselect_ca_certificates_conf(once), once);
}

TEST(CaCerts, RemoveDefaultsOnTheRedHatFamilyEmptiesTheTrustSources) {
  Fixture f("ca_certs: {remove_defaults: true}\n", kAmazon);
  f.system.files["/usr/share/pki/ca-trust-source/ca-bundle.trust.p11-kit"] = "...";
  f.system.files["/usr/share/pki/ca-trust-source/README"] = "...";
  f.system.files["/etc/pki/ca-trust/source/anchors/corp.pem"] = "...";
  f.system.files["/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"] = "...";
  auto plan = f.plan("ca_certs");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  // The extracted bundles' folders stay: update-ca-trust writes into them.
  std::vector<Action> expected = {
      RemoveFile{"/usr/share/pki/ca-trust-source/README", "ca_certs: remove_defaults"},
      RemoveFile{"/usr/share/pki/ca-trust-source/ca-bundle.trust.p11-kit",
                 "ca_certs: remove_defaults"},
      RemoveFile{"/etc/pki/ca-trust/source/anchors", "ca_certs: remove_defaults"},
      in_image("/usr/bin/update-ca-trust", "ca_certs: update-ca-trust")};
  EXPECT_EQ(plan.actions, expected);
}

TEST(CaCerts, CertificatesAnEarlierConfigAddedAndThisOneDoesNotAreRemoved) {
  Fixture f("ca_certs:\n  trusted:\n" + item(kCa1));
  for (const char* name : {"cloud-init-ca-cert-1.crt", "cloud-init-ca-cert-2.crt",
                           "cloud-init-ca-cert-10.crt", "corp.crt", "cloud-init-ca-cert-x.crt"}) {
    f.system.files[std::string("/usr/local/share/ca-certificates/") + name] = "old";
  }
  auto plan = f.plan("ca_certs");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {
      cert("/usr/local/share/ca-certificates/cloud-init-ca-cert-1.crt", kCa1, 0),
      RemoveFile{"/usr/local/share/ca-certificates/cloud-init-ca-cert-10.crt",
                 "ca_certs: no longer trusted"},
      RemoveFile{"/usr/local/share/ca-certificates/cloud-init-ca-cert-2.crt",
                 "ca_certs: no longer trusted"},
      in_image("/usr/sbin/update-ca-certificates", "ca_certs: update-ca-certificates")};
  EXPECT_EQ(plan.actions, expected);
}

TEST(CaCerts, AMissingToolIsAnErrorNamingItAndNothingIsWritten) {
  Fixture f("ca_certs:\n  trusted:\n" + item(kCa1));
  f.system.files.erase("/usr/sbin/update-ca-certificates");
  auto plan = f.plan("ca_certs");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "ca_certs: update-ca-certificates is not on this image (the ca-certificates package "
            "has it); nothing was written");

  Fixture rhel("ca_certs:\n  trusted:\n" + item(kCa1), kAmazon);
  rhel.system.files.erase("/usr/bin/update-ca-trust");
  auto missing = rhel.plan("ca_certs");
  EXPECT_TRUE(missing.actions.empty());
  ASSERT_EQ(missing.diagnostics.size(), 1u);
  EXPECT_NE(missing.diagnostics[0].message.find("update-ca-trust is not on this image"),
            std::string::npos);

  Fixture debconf("ca_certs: {remove_defaults: true}\n");
  debconf.system.files.erase("/usr/bin/debconf-set-selections");
  auto no_debconf = debconf.plan("ca_certs");
  EXPECT_TRUE(no_debconf.actions.empty());
  ASSERT_EQ(no_debconf.diagnostics.size(), 1u);
  EXPECT_NE(no_debconf.diagnostics[0].message.find("debconf-set-selections is not on this image"),
            std::string::npos);

  Fixture alpine("ca_certs:\n  trusted:\n" + item(kCa1), "ID=alpine\n");
  auto unknown = alpine.plan("ca_certs");
  EXPECT_TRUE(unknown.actions.empty());
  ASSERT_EQ(unknown.diagnostics.size(), 1u);
  EXPECT_EQ(unknown.diagnostics[0].message.rfind("no CA trust store known for ID=alpine", 0), 0u);
}

TEST(CaCerts, ABrokenCertificateRejectsTheWholeConfigWithItsPosition) {
  std::string body = kCa1.substr(28, kCa1.size() - 28 - 26);  // the base64 lines
  struct Case {
    std::string pem;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"not a certificate\n",
       "line 1 of the certificate: expected -----BEGIN CERTIFICATE-----, got other text"},
      {"-----BEGIN CERTIFICATE-----\n" + body,
       "line 1 of the certificate: no -----END CERTIFICATE----- after this BEGIN"},
      {"-----BEGIN CERTIFICATE-----\n" + body.substr(0, 65) + "MIIB*jCC\n" + body.substr(65) +
           "-----END CERTIFICATE-----\n",
       "line 3 of the certificate: a character that is not base64 at column 5 of the "
       "certificate's body"},
      {"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
       "line 1 of the certificate: the certificate is broken: its body is not a DER certificate "
       "(it does not start with a SEQUENCE of the length it says)"},
      {"-----BEGIN CERTIFICATE-----\n" + body.substr(0, 65) + "-----END CERTIFICATE-----\n",
       "line 1 of the certificate: the certificate is broken: its body is not a DER certificate "
       "(it does not start with a SEQUENCE of the length it says)"},
      {"-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
       "line 1 of the certificate: the certificate is broken: its body is not a DER certificate "
       "(no tbsCertificate SEQUENCE inside)"},
      {"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
       "line 1 of the certificate: the certificate has no body"},
      {"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
       "-----END PRIVATE KEY-----\n",
       "line 1 of the certificate: a private key, not a certificate: a key never belongs in "
       "ca_certs"},
      {"-----BEGIN CERTIFICATE-----\n" + body + "-----END X509 CRL-----\n",
       "line 11 of the certificate: END X509 CRL does not close BEGIN CERTIFICATE"},
      {kCa1 + "trailing words\n",
       "line 12 of the certificate: expected -----BEGIN CERTIFICATE-----, got other text"},
  };
  for (const auto& c : cases) {
    // The good certificate first: nothing of the config is planned either.
    Fixture f("ca_certs:\n  trusted:\n" + item(kCa2) + item(c.pem));
    Diagnostics d;
    f.check("ca_certs", d);
    ASSERT_EQ(d.size(), 1u) << c.pem << testing::formatted(d);
    EXPECT_EQ(d[0].format(), "user-data:15:5: ca_certs.trusted[1]: " + c.message) << c.pem;
    auto plan = f.plan("ca_certs");
    EXPECT_TRUE(plan.actions.empty());
  }
}

TEST(CaCerts, PemChecksAcceptChainsAndCarriageReturns) {
  EXPECT_EQ(check_pem_certificates(kCa1 + "\n" + kCa2), std::nullopt);
  std::string crlf;
  for (char c : kCa1) {
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  }
  EXPECT_EQ(check_pem_certificates(crlf), std::nullopt);
  EXPECT_EQ(check_pem_certificates(""), (PemProblem{1,
                                                    "no certificate in it (expected "
                                                    "-----BEGIN CERTIFICATE-----)"}));
  EXPECT_EQ(check_pem_certificates(kCa1 + kCa1.substr(0, 28) + kCa2),
            (PemProblem{13,
                        "BEGIN inside the certificate that began on line 12 (its END is "
                        "missing)"}));
}

TEST(CaCerts, TheDeprecatedNamesWarnAndStillWork) {
  Fixture old("ca-certs:\n  remove-defaults: false\n  trusted:\n" + item(kCa1));
  auto plan = old.plan("ca_certs");
  ASSERT_EQ(plan.diagnostics.size(), 2u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:2:3: warning: ca-certs: deprecated (cloud-init 22.1); use ca_certs instead");
  EXPECT_EQ(plan.diagnostics[1].format(),
            "user-data:2:20: warning: ca-certs.remove-defaults: deprecated (cloud-init 22.1); use "
            "remove_defaults instead");
  EXPECT_EQ(plan.actions.size(), 2u);

  Fixture both("ca_certs: {trusted: []}\nca-certs:\n  trusted:\n" + item(kCa1));
  auto ignored = both.plan("ca_certs");
  ASSERT_EQ(ignored.diagnostics.size(), 1u) << testing::formatted(ignored.diagnostics);
  EXPECT_EQ(ignored.diagnostics[0].message,
            "deprecated, and ca_certs is set too: ca-certs is ignored, as cloud-init ignores it");
  std::vector<Action> update_only = {
      in_image("/usr/sbin/update-ca-certificates", "ca_certs: update-ca-certificates")};
  EXPECT_EQ(ignored.actions, update_only);
}

TEST(CaCerts, BadShapesNameTheKeyAndPosition) {
  for (auto [yaml, message] : {
           std::pair{"ca_certs: [a]\n",
                     "user-data:1:11: ca_certs: expected a map with remove_defaults and trusted, "
                     "got a list"},
           std::pair{"ca_certs: {remove_defaults: maybe}\n",
                     "user-data:1:29: ca_certs.remove_defaults: expected a boolean (true or "
                     "false), got a string"},
           std::pair{"ca_certs: {trusted: [[a]]}\n",
                     "user-data:1:22: ca_certs.trusted[0]: expected a PEM certificate (a string), "
                     "got a list"},
       }) {
    Fixture f(yaml);
    Diagnostics d;
    f.check("ca_certs", d);
    ASSERT_FALSE(d.empty()) << yaml;
    EXPECT_EQ(d[0].format(), message) << testing::formatted(d);
  }
}

TEST(CaCerts, CloudInitsExampleIsRejectedForItsPlaceholdersAndAcceptedWithCertificates) {
  // doc/module-docs/cc_ca_certs/example1.yaml: its "certificates" are
  // placeholders, which cloud-init would install as they are.
  const std::string example =
      "ca_certs:\n"
      "  remove_defaults: true\n"
      "  trusted:\n"
      "  - single_line_cert\n"
      "  - |\n"
      "    -----BEGIN CERTIFICATE-----\n"
      "    YOUR-ORGS-TRUSTED-CA-CERT-HERE\n"
      "    -----END CERTIFICATE-----\n";
  Fixture f(example);
  Diagnostics d;
  f.check("ca_certs", d);
  ASSERT_EQ(d.size(), 2u) << testing::formatted(d);
  EXPECT_EQ(d[0].format(),
            "user-data:4:5: ca_certs.trusted[0]: line 1 of the certificate: expected -----BEGIN "
            "CERTIFICATE-----, got other text");
  EXPECT_EQ(d[1].format(),
            "user-data:5:5: ca_certs.trusted[1]: line 2 of the certificate: a character that is "
            "not base64 at column 5 of the certificate's body");

  Diagnostics validated = testing::validate(example);
  ASSERT_EQ(validated.size(), 2u) << testing::formatted(validated);
  EXPECT_EQ(validated[0].format(), d[0].format());

  // The same with real certificates: accepted, each key acted on.
  std::string with_certificates =
      "ca_certs:\n  remove_defaults: true\n  trusted:\n" + item(kCa1) + item(kCa2);
  Diagnostics accepted = testing::validate(with_certificates);
  EXPECT_TRUE(accepted.empty()) << testing::formatted(accepted);
  Fixture real(with_certificates);
  real.system.files["/etc/ca-certificates.conf"] = "mozilla/A.crt\n";
  auto plan = real.plan("ca_certs");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  ASSERT_EQ(plan.actions.size(), 5u);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[0]).path, "/etc/ca-certificates.conf");
  EXPECT_EQ(std::get<RunCommand>(plan.actions[1]).argv[2], "/usr/bin/debconf-set-selections");
  EXPECT_EQ(std::get<WriteFile>(plan.actions[2]).content, kCa1);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[3]).content, kCa2);
  EXPECT_EQ(std::get<RunCommand>(plan.actions[4]).argv[2], "/usr/sbin/update-ca-certificates");
}

}  // namespace
}  // namespace amiboot
