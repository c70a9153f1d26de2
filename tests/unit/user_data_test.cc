// SPDX-License-Identifier: Apache-2.0
#include "agent/core/user_data.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <map>

namespace amiboot {
namespace {

// gzip as gzip(1) writes it; `zeros` appends that many zero bytes without
// holding them in memory, for bombs.
std::string gzip(const std::string& data, std::size_t zeros = 0) {
  z_stream stream{};
  EXPECT_EQ(
      deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out;
  char buffer[65536];
  auto pump = [&](const char* in, std::size_t size, int flush) {
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
    stream.avail_in = static_cast<uInt>(size);
    do {
      stream.next_out = reinterpret_cast<Bytef*>(buffer);
      stream.avail_out = sizeof buffer;
      deflate(&stream, flush);
      out.append(buffer, sizeof buffer - stream.avail_out);
    } while (stream.avail_out == 0);
  };
  pump(data.data(), data.size(), Z_NO_FLUSH);
  const std::string block(1 << 20, '\0');
  for (std::size_t left = zeros; left > 0;) {
    std::size_t n = std::min(left, block.size());
    pump(block.data(), n, Z_NO_FLUSH);
    left -= n;
  }
  pump(nullptr, 0, Z_FINISH);
  deflateEnd(&stream);
  return out;
}

DecodedUserData decode_ok(const std::string& raw, const UserDataOptions& options = {}) {
  Result<DecodedUserData> result = decode_user_data(raw, options);
  EXPECT_TRUE(result.ok()) << result.error().message;
  return result.ok() ? *result : DecodedUserData{};
}

std::string decode_error(const std::string& raw, const UserDataOptions& options = {}) {
  Result<DecodedUserData> result = decode_user_data(raw, options);
  EXPECT_FALSE(result.ok());
  return result.ok() ? "" : result.error().message;
}

Part part(PartType type, std::string name, std::string label, std::string content) {
  return Part{type, std::move(name), std::move(label), std::move(content)};
}

std::string crlf(std::string text) {
  std::string out;
  for (char c : text) {
    out += c == '\n' ? std::string("\r\n") : std::string(1, c);
  }
  return out;
}

// Fetches from a fixed table and records what was asked.
struct FakeFetcher {
  std::map<std::string, Result<std::string>> responses;
  std::vector<std::string> requested;

  UserDataOptions options() {
    UserDataOptions options;
    options.fetch = [this](const std::string& url) -> Result<std::string> {
      requested.push_back(url);
      auto it = responses.find(url);
      return it == responses.end() ? Result<std::string>(error("HTTP 404")) : it->second;
    };
    return options;
  }
};

// Written by Python's email package the way cloud-init's make-mime does
// (MIMEMultipart of MIMEText parts, printed), with fixed boundary and charsets
// chosen to get one part of each transfer encoding.
constexpr const char* k_make_mime =
    R"MIME(Content-Type: multipart/mixed; boundary="===============4372865474587012354=="
MIME-Version: 1.0

--===============4372865474587012354==
Content-Type: text/cloud-config; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: attachment; filename="config.yaml"

#cloud-config
packages:
  - nginx
runcmd:
  - echo hello

--===============4372865474587012354==
Content-Type: text/x-shellscript; charset="utf-8"
MIME-Version: 1.0
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="setup.sh"

IyEvYmluL2Jhc2gKc2V0IC1ldW8gcGlwZWZhaWwKZWNobyAiZmlyc3QgYm9vdCBvbiAkKGhvc3Ru
YW1lKSBhdCAkKGRhdGUgLXUgKyVZLSVtLSVkVCVIOiVNOiVTWikiID4+IC92YXIvbG9nL2ZpcnN0
LWJvb3QubG9nCg==

--===============4372865474587012354==
Content-Type: text/plain; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit

#!/bin/sh
echo plain

--===============4372865474587012354==
Content-Type: text/cloud-config; charset="utf-8"
MIME-Version: 1.0
Content-Transfer-Encoding: quoted-printable
Content-Disposition: attachment; filename="app.yaml"

#cloud-config
write_files:
  - path: /etc/app.conf
    content: "mode=3Dfast; level=3D3; a very long line that goes past seven=
ty-six characters for sure"

--===============4372865474587012354==--
)MIME";

// What Python's get_payload(decode=True) returns for k_make_mime's parts.
std::vector<Part> make_mime_parts() {
  return {
      part(PartType::CloudConfig, "config.yaml", "user-data part 1 (config.yaml)",
           "#cloud-config\npackages:\n  - nginx\nruncmd:\n  - echo hello\n"),
      part(PartType::ShellScript, "setup.sh", "user-data part 2 (setup.sh)",
           "#!/bin/bash\nset -euo pipefail\necho \"first boot on $(hostname) at $(date -u "
           "+%Y-%m-%dT%H:%M:%SZ)\" >> /var/log/first-boot.log\n"),
      part(PartType::ShellScript, "part-003", "user-data part 3", "#!/bin/sh\necho plain\n"),
      part(PartType::CloudConfig, "app.yaml", "user-data part 4 (app.yaml)",
           "#cloud-config\nwrite_files:\n  - path: /etc/app.conf\n    content: \"mode=fast; "
           "level=3; a very long line that goes past seventy-six characters for sure\"\n"),
  };
}

// Python's email package again: a multipart/alternative inside the
// multipart/mixed, and a gzip'd script as MIMEApplication(..., "gzip").
constexpr const char* k_nested_mime = R"MIME(Content-Type: multipart/mixed; boundary="==outer=="
MIME-Version: 1.0

--==outer==
Content-Type: multipart/alternative; boundary="==inner=="
MIME-Version: 1.0

--==inner==
Content-Type: text/cloud-config; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit

#cloud-config
hostname: web-1

--==inner==
Content-Type: text/x-shellscript; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: attachment; filename="inner.sh"

#!/bin/sh
echo inner

--==inner==--

--==outer==
Content-Type: application/gzip
MIME-Version: 1.0
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename=gz-script

H4sIAAAAAAACA1NW1E/KzNMvzuBKTc7IV0iv4gIAgDxpgxIAAAA=

--==outer==
Content-Type: text/cloud-config; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit

#cloud-config
locale: C.UTF-8

--==outer==--
)MIME";

// A multipart message with one part per (headers, body) pair.
std::string multipart(const std::vector<std::pair<std::string, std::string>>& parts) {
  std::string out = "Content-Type: multipart/mixed; boundary=XYZ\nMIME-Version: 1.0\n\n";
  for (const auto& [headers, body] : parts) {
    out += "--XYZ\n" + headers + "\n\n" + body + "\n";
  }
  return out + "--XYZ--\n";
}

TEST(UserData, PlainCloudConfig) {
  DecodedUserData decoded = decode_ok("#cloud-config\npackages: [nginx]\n");
  EXPECT_EQ(decoded.parts, (std::vector<Part>{part(PartType::CloudConfig, "part-001", "user-data",
                                                   "#cloud-config\npackages: [nginx]\n")}));
  EXPECT_TRUE(decoded.warnings.empty());
}

TEST(UserData, CloudConfigCrlfBecomesLfLineForLine) {
  DecodedUserData decoded = decode_ok("#cloud-config\r\n\r\nhostname: a\r\n");
  ASSERT_EQ(decoded.parts.size(), 1u);
  EXPECT_EQ(decoded.parts[0].content, "#cloud-config\n\nhostname: a\n");
}

TEST(UserData, MarkerIsCaseInsensitiveAfterLeadingWhitespaceLikeCloudInit) {
  DecodedUserData decoded = decode_ok("\n  #Cloud-Config\na: 1\n");
  ASSERT_EQ(decoded.parts.size(), 1u);
  EXPECT_EQ(decoded.parts[0].type, PartType::CloudConfig);
  EXPECT_EQ(decoded.parts[0].content, "\n  #Cloud-Config\na: 1\n");  // line numbers kept
}

TEST(UserData, ShellScriptCrlfBecomesLf) {
  DecodedUserData decoded = decode_ok("#!/bin/bash\r\necho hi\r\nexit 0\r\n");
  EXPECT_EQ(decoded.parts, (std::vector<Part>{part(PartType::ShellScript, "part-001", "user-data",
                                                   "#!/bin/bash\necho hi\nexit 0\n")}));
}

TEST(UserData, ShellScriptLosesLeadingBlankLinesAndBomSoTheShebangWorks) {
  DecodedUserData decoded = decode_ok("\xEF\xBB\xBF\n\n#!/bin/sh\necho hi\n");
  ASSERT_EQ(decoded.parts.size(), 1u);
  EXPECT_EQ(decoded.parts[0].content, "#!/bin/sh\necho hi\n");
}

TEST(UserData, BoothookLosesItsMarkerLine) {
  DecodedUserData decoded = decode_ok("#cloud-boothook\r\n#!/bin/sh\r\necho early\r\n");
  EXPECT_EQ(decoded.parts, (std::vector<Part>{part(PartType::Boothook, "part-001", "user-data",
                                                   "#!/bin/sh\necho early\n")}));
  EXPECT_TRUE(decoded.warnings.empty());
}

TEST(UserData, IncludeFetchesEachUrlAndDecodesWhatComesBack) {
  FakeFetcher fetcher;
  fetcher.responses.emplace("https://example.com/a.yaml", "#cloud-config\nhostname: a\n");
  fetcher.responses.emplace("https://example.com/b.gz", gzip("#!/bin/sh\r\necho b\r\n"));
  DecodedUserData decoded =
      decode_ok("#include\nhttps://example.com/a.yaml\n# a comment\n\n  https://example.com/b.gz\n",
                fetcher.options());
  EXPECT_EQ(fetcher.requested,
            (std::vector<std::string>{"https://example.com/a.yaml", "https://example.com/b.gz"}));
  EXPECT_EQ(
      decoded.parts,
      (std::vector<Part>{part(PartType::CloudConfig, "part-001",
                              "include https://example.com/a.yaml", "#cloud-config\nhostname: a\n"),
                         part(PartType::ShellScript, "part-002", "include https://example.com/b.gz",
                              "#!/bin/sh\necho b\n")}));
  EXPECT_TRUE(decoded.warnings.empty());
}

TEST(UserData, IncludeUrlMayShareTheMarkerLine) {
  FakeFetcher fetcher;
  fetcher.responses.emplace("https://example.com/one", "#!/bin/sh\n");
  DecodedUserData decoded = decode_ok("#include-once https://example.com/one\n", fetcher.options());
  EXPECT_EQ(fetcher.requested, (std::vector<std::string>{"https://example.com/one"}));
  ASSERT_EQ(decoded.parts.size(), 1u);
  EXPECT_EQ(decoded.parts[0].type, PartType::ShellScript);
}

// An error: the runner then applies none of the user data (all or nothing).
TEST(UserData, FailedIncludeIsAnErrorAndTheOthersStillDecode) {
  FakeFetcher fetcher;
  fetcher.responses.emplace("https://example.com/ok", "#cloud-config\na: 1\n");
  DecodedUserData decoded = decode_ok(
      "#include\nhttps://example.com/missing\nhttps://example.com/ok\n", fetcher.options());
  ASSERT_EQ(decoded.parts.size(), 1u);
  EXPECT_EQ(decoded.parts[0].label, "include https://example.com/ok");
  EXPECT_TRUE(decoded.warnings.empty());
  EXPECT_EQ(decoded.errors,
            (std::vector<std::string>{"user-data: #include https://example.com/missing failed: "
                                      "HTTP 404"}));
}

TEST(UserData, IncludeWithoutFetcherIsAWarning) {
  DecodedUserData decoded = decode_ok("#include\nhttps://example.com/a.yaml\n");
  EXPECT_TRUE(decoded.parts.empty());
  EXPECT_EQ(decoded.warnings,
            (std::vector<std::string>{"user-data: #include https://example.com/a.yaml was not "
                                      "fetched (offline); its content was not checked"}));
}

TEST(UserData, IncludesNestOnlyToTheConfiguredDepth) {
  FakeFetcher fetcher;
  fetcher.responses.emplace("https://example.com/loop", "#include https://example.com/loop\n");
  DecodedUserData decoded = decode_ok("#include https://example.com/loop\n", fetcher.options());
  EXPECT_EQ(fetcher.requested.size(), 3u);
  EXPECT_EQ(decoded.errors,
            (std::vector<std::string>{"include https://example.com/loop: #include "
                                      "https://example.com/loop was not fetched: includes nest "
                                      "deeper than 3 levels"}));
}

TEST(UserData, IncludesAreCappedInNumber) {
  FakeFetcher fetcher;
  UserDataOptions options = fetcher.options();
  options.limits.includes = 2;
  DecodedUserData decoded = decode_ok("#include\nhttps://e/1\nhttps://e/2\nhttps://e/3\n", options);
  EXPECT_EQ(fetcher.requested.size(), 2u);
  ASSERT_EQ(decoded.errors.size(), 3u);  // two 404s, then the limit
  EXPECT_EQ(decoded.errors[2],
            "user-data: #include https://e/3 was not fetched: more than 2 includes "
            "(amiboot.limits.includes)");
}

TEST(UserData, IncludeLabelsHideCredentialsButTheFetchGetsTheWholeUrl) {
  const std::string url = "https://user:pw@bucket.s3.amazonaws.com/a.yaml?X-Amz-Signature=s3cr3t";
  FakeFetcher fetcher;
  fetcher.responses.emplace(url, "#cloud-config\n");
  fetcher.responses.emplace("https://e/x?token=s3cr3t", Result<std::string>(error("HTTP 500")));
  DecodedUserData decoded =
      decode_ok("#include\n" + url + "\nhttps://e/x?token=s3cr3t\n", fetcher.options());
  EXPECT_EQ(fetcher.requested, (std::vector<std::string>{url, "https://e/x?token=s3cr3t"}));
  ASSERT_EQ(decoded.parts.size(), 1u);
  EXPECT_EQ(decoded.parts[0].label, "include https://bucket.s3.amazonaws.com/a.yaml?...");
  ASSERT_EQ(decoded.errors.size(), 1u);
  EXPECT_EQ(decoded.errors[0], "user-data: #include https://e/x?... failed: HTTP 500");
}

TEST(UserData, BrokenIncludedContentIsDroppedWholeWithAnError) {
  FakeFetcher fetcher;
  std::string broken = multipart({{"Content-Type: text/x-shellscript", "#!/bin/sh\necho 1"},
                                  {"Content-Type: text/x-shellscript\n"
                                   "Content-Transfer-Encoding: base64",
                                   "not*base64"}});
  fetcher.responses.emplace("https://e/broken", broken);
  DecodedUserData decoded = decode_ok("#include https://e/broken\n", fetcher.options());
  EXPECT_TRUE(decoded.parts.empty());
  EXPECT_EQ(decoded.errors,
            (std::vector<std::string>{"include https://e/broken part 2: invalid base64: "
                                      "unexpected character at offset 3; include skipped"}));
}

TEST(UserData, GzippedCloudConfig) {
  DecodedUserData decoded = decode_ok(gzip("#cloud-config\nhostname: gz\n"));
  EXPECT_EQ(decoded.parts, (std::vector<Part>{part(PartType::CloudConfig, "part-001", "user-data",
                                                   "#cloud-config\nhostname: gz\n")}));
}

TEST(UserData, GzippedMime) {
  DecodedUserData decoded = decode_ok(gzip(k_make_mime));
  EXPECT_EQ(decoded.parts, make_mime_parts());
}

TEST(UserData, GzipBombIsRefused) {
  std::string bomb = gzip("", std::size_t{64} << 20);
  ASSERT_LT(bomb.size(), 1u << 20);
  EXPECT_EQ(decode_error(bomb),
            "user-data: gzip data inflates to more than 16 MiB; refusing it "
            "(amiboot.limits.user_data_bytes)");
}

TEST(UserData, GunzipStopsAtTheCap) {
  std::string exactly = gzip(std::string(1 << 20, 'a'));
  Result<std::string> fits = gunzip(exactly, 1 << 20);
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  EXPECT_EQ(fits->size(), 1u << 20);
  Result<std::string> over = gunzip(exactly, (1 << 20) - 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message, "gzip data inflates to more than 1.0 MiB; refusing it");
}

TEST(UserData, GzipPartsShareOneBudget) {
  UserDataOptions options;
  options.limits.user_data_bytes = 1 << 20;
  std::string half = gzip("#!/bin/sh\n" + std::string(600 << 10, '#'));
  std::string raw =
      multipart({{"Content-Type: application/gzip\nContent-Transfer-Encoding: binary", half},
                 {"Content-Type: application/gzip\nContent-Transfer-Encoding: binary", half}});
  EXPECT_EQ(decode_error(raw, options),
            "user-data part 2: gzip data inflates past the 1 MiB limit for all decoded user "
            "data; refusing it (amiboot.limits.user_data_bytes)");
}

TEST(UserData, CorruptGzipIsAnError) {
  std::string data = gzip("#cloud-config\n" + std::string(1000, 'x') + "\n");
  std::string corrupt = data;
  for (std::size_t i = 12; i < corrupt.size() - 8; ++i) {
    corrupt[i] = static_cast<char>(0xff);
  }
  EXPECT_TRUE(decode_error(corrupt).starts_with("user-data: corrupt gzip data ("));
  EXPECT_EQ(decode_error(data.substr(0, data.size() / 2)),
            "user-data: corrupt gzip data (truncated)");
  EXPECT_EQ(decode_error(data + "junk"),
            "user-data: corrupt gzip data (trailing bytes after the gzip stream)");
}

TEST(UserData, ConcatenatedGzipMembersAreOneStream) {
  DecodedUserData decoded = decode_ok(gzip("#cloud-config\n") + gzip("a: 1\n"));
  ASSERT_EQ(decoded.parts.size(), 1u);
  EXPECT_EQ(decoded.parts[0].content, "#cloud-config\na: 1\n");
}

TEST(UserData, EmptyUserDataHasNoPartsAndNoWarnings) {
  for (const std::string raw : {"", " \n\t\r\n", "\xEF\xBB\xBF"}) {
    DecodedUserData decoded = decode_ok(raw);
    EXPECT_TRUE(decoded.parts.empty());
    EXPECT_TRUE(decoded.warnings.empty());
  }
  EXPECT_TRUE(decode_ok(gzip("")).parts.empty());
}

TEST(UserData, UnrecognizedContentWarnsWithoutQuotingIt) {
  DecodedUserData decoded = decode_ok("password=hunter2\n");
  EXPECT_TRUE(decoded.parts.empty());
  ASSERT_EQ(decoded.warnings.size(), 1u);
  EXPECT_EQ(decoded.warnings[0],
            "user-data: unrecognized content (does not start with a known marker; expected "
            "#cloud-config, #!, #include, #cloud-boothook or MIME multipart); ignored");
  EXPECT_EQ(decoded.warnings[0].find("hunter2"), std::string::npos);
  EXPECT_EQ(decoded.warnings[0].find("password"), std::string::npos);
}

TEST(UserData, NearMissMarkerIsNamed) {
  for (const std::string raw : {"# cloud-config\na: 1\n", "#cloud_config\n", "cloud-config\n"}) {
    DecodedUserData decoded = decode_ok(raw);
    EXPECT_TRUE(decoded.parts.empty());
    ASSERT_EQ(decoded.warnings.size(), 1u);
    EXPECT_EQ(decoded.warnings[0],
              "user-data: unrecognized content (the first line is close to #cloud-config but is "
              "not it; expected #cloud-config, #!, #include, #cloud-boothook or MIME multipart); "
              "ignored");
  }
}

TEST(UserData, UnsupportedFormatsAreSkippedWithAWarning) {
  // #cloud-config-archive and #part-handler: tests/unit/user_data_formats_test.cc.
  DecodedUserData decoded = decode_ok("#cloud-config-jsonp\n{}\n");
  EXPECT_TRUE(decoded.parts.empty());
  EXPECT_EQ(decoded.warnings,
            (std::vector<std::string>{
                "user-data: #cloud-config-jsonp is not supported by amiboot; ignored"}));
}

TEST(UserData, MimeAsMakeMimeWritesIt) {
  DecodedUserData decoded = decode_ok(k_make_mime);
  EXPECT_EQ(decoded.parts, make_mime_parts());
  EXPECT_TRUE(decoded.warnings.empty());
}

TEST(UserData, MimeWithCrlfLineEndings) {
  DecodedUserData decoded = decode_ok(crlf(k_make_mime));
  EXPECT_EQ(decoded.parts, make_mime_parts());
  EXPECT_TRUE(decoded.warnings.empty());
}

TEST(UserData, NestedMultipartAndGzipPart) {
  DecodedUserData decoded = decode_ok(k_nested_mime);
  EXPECT_EQ(decoded.parts, (std::vector<Part>{
                               part(PartType::CloudConfig, "part-001", "user-data part 1.1",
                                    "#cloud-config\nhostname: web-1\n"),
                               part(PartType::ShellScript, "inner.sh",
                                    "user-data part 1.2 (inner.sh)", "#!/bin/sh\necho inner\n"),
                               part(PartType::ShellScript, "gz-script",
                                    "user-data part 2 (gz-script)", "#!/bin/sh\necho gz\n"),
                               part(PartType::CloudConfig, "part-004", "user-data part 3",
                                    "#cloud-config\nlocale: C.UTF-8\n"),
                           }));
  EXPECT_TRUE(decoded.warnings.empty());
}

TEST(UserData, MimePartOrderIsKept) {
  std::string raw = multipart({
      {"Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"z.sh\"",
       "#!/bin/sh\necho z"},
      {"Content-Type: text/cloud-config", "#cloud-config\nb: 2"},
      {"Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"a.sh\"",
       "#!/bin/sh\necho a"},
      {"Content-Type: text/cloud-boothook", "#cloud-boothook\necho boot"},
      {"Content-Type: text/cloud-config", "#cloud-config\na: 1"},
  });
  DecodedUserData decoded = decode_ok(raw);
  std::vector<std::string> names;
  for (const Part& p : decoded.parts) {
    names.push_back(p.name + "=" + std::string(part_type_name(p.type)));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"z.sh=x-shellscript", "part-002=cloud-config",
                                             "a.sh=x-shellscript", "part-004=cloud-boothook",
                                             "part-005=cloud-config"}));
  EXPECT_EQ(decoded.parts[3].content, "echo boot");
}

TEST(UserData, MimeHeadersAreCaseInsensitiveAndMayFold) {
  std::string raw =
      "content-type: Multipart/Mixed;\n boundary=plain\nmime-version: 1.0\n\n"
      "--plain\n"
      "CONTENT-TYPE: text/X-ShellScript\n"
      "content-disposition: attachment;\n\tfilename=run.sh\n\n"
      "#!/bin/sh\n"
      "--plain--\n";
  DecodedUserData decoded = decode_ok(raw);
  EXPECT_EQ(decoded.parts, (std::vector<Part>{part(PartType::ShellScript, "run.sh",
                                                   "user-data part 1 (run.sh)", "#!/bin/sh")}));
}

TEST(UserData, MimeFilenamesAreSanitized) {
  std::string raw = multipart({
      {"Content-Type: text/x-shellscript\n"
       "Content-Disposition: attachment; filename=\"../../etc/cron.d/evil job\"",
       "#!/bin/sh"},
      {"Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"..\"",
       "#!/bin/sh"},
      {"Content-Type: text/x-shellscript; name=\"legacy.sh\"", "#!/bin/sh"},
      {"Content-Type: text/x-shellscript\n"
       "Content-Disposition: attachment; filename*=utf-8''caf%C3%A9.sh",
       "#!/bin/sh"},
      {"Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"\"",
       "#!/bin/sh"},
  });
  DecodedUserData decoded = decode_ok(raw);
  std::vector<std::string> names;
  for (const Part& p : decoded.parts) {
    names.push_back(p.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{".._.._etc_cron.d_evil_job", "__", "legacy.sh",
                                             "caf__.sh", "part-005"}));
  EXPECT_EQ(decoded.parts[0].label, "user-data part 1 (.._.._etc_cron.d_evil_job)");
}

TEST(UserData, MimePlainPartIsSniffedAndUnknownOnesWarnSafely) {
  std::string raw = multipart({
      {"Content-Type: text/plain", "#cloud-config\na: 1"},
      {"Content-Type: application/octet-stream\n"
       "Content-Disposition: attachment; filename=secret.txt",
       "api_key=sk-live-123"},
      {"Content-Type: text/x-shellscript-per-week", "#!/bin/sh"},
  });
  DecodedUserData decoded = decode_ok(raw);
  EXPECT_EQ(decoded.parts, (std::vector<Part>{part(PartType::CloudConfig, "part-001",
                                                   "user-data part 1", "#cloud-config\na: 1")}));
  EXPECT_EQ(decoded.warnings,
            (std::vector<std::string>{
                "user-data part 2 (secret.txt): unrecognized content (does not start with a known "
                "marker; expected #cloud-config, #!, #include, #cloud-boothook or MIME "
                "multipart); ignored",
                "user-data part 3: text/x-shellscript-per-week is not supported by amiboot; "
                "ignored"}));
}

TEST(UserData, MimeIncludePartIsFetched) {
  FakeFetcher fetcher;
  fetcher.responses.emplace("https://e/c.yaml", "#cloud-config\nc: 3\n");
  std::string raw = multipart({{"Content-Type: text/x-include-url", "https://e/c.yaml"}});
  DecodedUserData decoded = decode_ok(raw, fetcher.options());
  EXPECT_EQ(decoded.parts,
            (std::vector<Part>{part(PartType::CloudConfig, "part-001", "include https://e/c.yaml",
                                    "#cloud-config\nc: 3\n")}));
}

TEST(UserData, MimeInvalidBase64IsAnError) {
  std::string raw =
      multipart({{"Content-Type: text/x-shellscript\n"
                  "Content-Transfer-Encoding: base64\n"
                  "Content-Disposition: attachment; filename=\"x.sh\"",
                  "IyEvYmlu\nL3No!!"}});
  EXPECT_EQ(decode_error(raw),
            "user-data part 1 (x.sh): invalid base64: unexpected character at offset 13");
}

TEST(UserData, MimeStructureErrors) {
  EXPECT_EQ(decode_error("Content-Type: multipart/mixed\nMIME-Version: 1.0\n\n--x\n\n#!/bin/sh\n"),
            "user-data: multipart message without a boundary parameter");
  EXPECT_EQ(decode_error("Content-Type: multipart/mixed; boundary=b\n\n--c\n\n#!/bin/sh\n"),
            "user-data: multipart boundary never occurs in the body");
  EXPECT_EQ(decode_error(multipart({{"Content-Type: application/gzip", "#!/bin/sh"}})),
            "user-data part 1: not gzip data");
}

TEST(UserData, MimeNestingIsBounded) {
  std::string raw = "#!/bin/sh\n";
  for (int i = 0; i < 10; ++i) {
    raw = "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n--b" +
          std::to_string(i) + "\n" + raw + "\n--b" + std::to_string(i) + "--\n";
  }
  EXPECT_EQ(decode_error(raw),
            "user-data part 1.1.1.1.1.1.1.1: MIME multipart nested deeper than 8 levels");
}

TEST(UserData, SingleMimeEntityWithoutMultipart) {
  DecodedUserData decoded = decode_ok(
      "Content-Type: text/x-shellscript\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64\n\n"
      "IyEvYmluL3NoCmVjaG8gb25lCg==\n");
  EXPECT_EQ(decoded.parts, (std::vector<Part>{part(PartType::ShellScript, "part-001", "user-data",
                                                   "#!/bin/sh\necho one\n")}));
}

TEST(UserData, MergeTypeHeaderIsKeptWithItsPart) {
  // Terraform's cloudinit_config writes Merge-Type; cloud-init also reads
  // X-Merge-Type, the first of the two that is not empty.
  std::string raw = multipart({
      {"Content-Type: text/cloud-config\nMerge-Type: list(append)+dict(recurse_array)+str()",
       "#cloud-config\nruncmd: [a]"},
      {"Content-Type: text/cloud-config\nx-merge-type:  list(prepend) ", "#cloud-config\nb: 2"},
      {"Content-Type: text/cloud-config\nMerge-Type:\nX-Merge-Type: dict(replace)",
       "#cloud-config\nc: 3"},
      {"Content-Type: text/plain\nMerge-Type: str(append)", "#cloud-config\nd: 4"},
      {"Content-Type: text/cloud-config", "#cloud-config\ne: 5"},
  });
  DecodedUserData decoded = decode_ok(raw);
  std::vector<std::string> merge_types;
  for (const Part& p : decoded.parts) {
    merge_types.push_back(p.merge_type);
  }
  EXPECT_EQ(merge_types,
            (std::vector<std::string>{"list(append)+dict(recurse_array)+str()", "list(prepend)",
                                      "dict(replace)", "str(append)", ""}));
}

TEST(UserData, MergeTypeOfAMultipartIsNotPassedToItsParts) {
  // cloud-init gives the handler each leaf part's own headers.
  std::string raw =
      multipart({{"Content-Type: multipart/mixed; boundary=INNER\n"
                  "Merge-Type: list(append)",
                  "--INNER\nContent-Type: text/cloud-config\n\n#cloud-config\na: 1\n"
                  "--INNER--"}});
  DecodedUserData decoded = decode_ok(raw);
  ASSERT_EQ(decoded.parts.size(), 1u);
  EXPECT_EQ(decoded.parts[0].merge_type, "");
  EXPECT_EQ(decode_ok("#cloud-config\na: 1\n").parts[0].merge_type, "");
}

TEST(UserData, PartTypeNames) {
  EXPECT_EQ(part_type_name(PartType::CloudConfig), "cloud-config");
  EXPECT_EQ(part_type_name(PartType::ShellScript), "x-shellscript");
  EXPECT_EQ(part_type_name(PartType::Boothook), "cloud-boothook");
  EXPECT_EQ(part_type_name(PartType::IncludeUrl), "x-include-url");
  EXPECT_EQ(part_type_name(PartType::Unknown), "unknown");
}

TEST(UserData, RedactUrl) {
  EXPECT_EQ(redact_url("https://example.com/a.yaml"), "https://example.com/a.yaml");
  EXPECT_EQ(redact_url("https://u:p@h/x?sig=1#f"), "https://h/x?...");
  EXPECT_EQ(redact_url("http://h?x=1"), "http://h?...");
  EXPECT_EQ(redact_url("h/a\x1b[2J"), "h/a?[2J");
}

}  // namespace
}  // namespace amiboot

namespace amiboot {
namespace {

const nlohmann::json kInstance = {
    {"v1", {{"instance_id", "i-0abc"}, {"availability_zone", "eu-west-1b"}}}};

Result<DecodedUserData> decode_template(const std::string& raw,
                                        const nlohmann::json* context = &kInstance) {
  UserDataOptions options;
  if (context != nullptr) {
    options.template_context = [context] { return *context; };
  }
  return decode_user_data(raw, options);
}

TEST(UserDataTemplate, AJinjaUserDataRendersThenIsWhatItsFirstLineSays) {
  auto decoded = decode_template(
      "## template: jinja\n#cloud-config\nruncmd:\n  - echo {{ v1.instance_id }} "
      "{{ v1.availability_zone }}\n");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->errors.empty());
  ASSERT_EQ(decoded->parts.size(), 1u);
  EXPECT_EQ(decoded->parts[0].type, PartType::CloudConfig);
  // The header line stays as a blank line: the YAML's lines are the served lines.
  EXPECT_EQ(decoded->parts[0].content, "\n#cloud-config\nruncmd:\n  - echo i-0abc eu-west-1b\n");
}

TEST(UserDataTemplate, AMimePartTemplateBecomesAScript) {
  auto decoded = decode_template(multipart(
      {{"Content-Type: text/jinja2", "## template: jinja\n#!/bin/sh\necho {{ v1.instance_id }}"},
       {"Content-Type: text/cloud-config", "#cloud-config\nhostname: a"}}));
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->parts.size(), 2u);
  EXPECT_EQ(decoded->parts[0].type, PartType::ShellScript);
  EXPECT_EQ(decoded->parts[0].content, "#!/bin/sh\necho i-0abc");
  EXPECT_EQ(decoded->parts[1].type, PartType::CloudConfig);
}

TEST(UserDataTemplate, ATemplateThatDoesNotRenderIsRejectedWholeWithItsPosition) {
  auto decoded = decode_template(
      multipart({{"Content-Type: text/plain", "## template: jinja\n#!/bin/sh\necho {{ v1.nope }}"},
                 {"Content-Type: text/cloud-config", "#cloud-config\nhostname: a"}}));
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->errors.size(), 1u);
  EXPECT_NE(decoded->errors[0].find("user-data part 1:3:"), std::string::npos)
      << decoded->errors[0];
  EXPECT_NE(decoded->errors[0].find("v1.nope"), std::string::npos) << decoded->errors[0];
  ASSERT_EQ(decoded->parts.size(), 1u) << "only the part that rendered";
  EXPECT_EQ(decoded->parts[0].type, PartType::CloudConfig);
}

TEST(UserDataTemplate, WithoutInstanceDataOrRenderingToATemplateItIsAnError) {
  auto none = decode_template("## template: jinja\n#cloud-config\n", nullptr);
  ASSERT_TRUE(none.ok());
  ASSERT_EQ(none->errors.size(), 1u);
  EXPECT_TRUE(none->parts.empty());
  auto twice = decode_template("## template: jinja\n{{ '## template: jinja' }}\n#cloud-config\n");
  ASSERT_TRUE(twice.ok());
  ASSERT_EQ(twice->errors.size(), 1u);
  EXPECT_NE(twice->errors[0].find("another template"), std::string::npos) << twice->errors[0];
}

}  // namespace
}  // namespace amiboot
