// SPDX-License-Identifier: Apache-2.0
// A keyserver's answer checked against the key id asked for
// (openpgp_keyid_problem), with keys made by gpg 2.2 for this test
// (--quick-gen-key ed25519, --quick-add-key cv25519); the fingerprints are
// the ones gpg --with-colons printed. And the SHA-1 they rest on.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "agent/core/codecs.h"
#include "agent/core/sha1.h"
#include "modules/openpgp_key.h"

namespace amiboot {
namespace {

std::string hex(const std::array<std::uint8_t, 20>& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

TEST(Sha1, MatchesTheFips180Examples) {
  EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  // 56 bytes: the padding spills into a second block.
  EXPECT_EQ(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

// Primary 2B3E0BFE6617FAB31996EA67F99D1560B04C3DE5 (ed25519) with the
// encryption subkey 7813173A2ACB3D4A0F60BC6A69156421DB38F0AB.
const std::string kKey =
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
    "\n"
    "mDMEawwGPBYJKwYBBAHaRw8BAQdA3g9RqQm/HGS2D2THpqU1Nxr00oSSSAJyJtW6\n"
    "XPagUry0KGFtaWJvb3QgdW5pdCB0ZXN0IDx1bml0QGFtaWJvb3QuaW52YWxpZD6I\n"
    "kAQTFggAOBYhBCs+C/5mF/qzGZbqZ/mdFWCwTD3lBQJrDAY8AhsDBQsJCAcCBhUK\n"
    "CQgLAgQWAgMBAh4BAheAAAoJEPmdFWCwTD3lGFgBAIYZv+ORLuFowcRbpGK7vkQJ\n"
    "oThpBF52kAJ5/A4dpxwaAQCeeh1TB/XHWucdxIZR3XmfjNrm8CNYbAgNXCYfOY1B\n"
    "Abg4BGsMBj0SCisGAQQBl1UBBQEBB0AhHUcHbWaXPEO3QrSGVWSc/W0MiIWIJe5P\n"
    "JmqePoKcZgMBCAeIeAQYFggAIBYhBCs+C/5mF/qzGZbqZ/mdFWCwTD3lBQJrDAY9\n"
    "AhsMAAoJEPmdFWCwTD3lUYkBAI654JVkeC+wO7Sj1B2lCpWRZ8q/6osxw5zhoUsL\n"
    "hYMDAP4oLHKNdyKcuXgA4ltOQ30jAVQdL92odCN7Qu2zaTN5BQ==\n"
    "=Gg+9\n"
    "-----END PGP PUBLIC KEY BLOCK-----\n";
// Another key: 070530D9EB9EDCD540D7098353CA14B2592F8A6C.
const std::string kOther =
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
    "\n"
    "mDMEawwGPRYJKwYBBAHaRw8BAQdA3/YIeMGVbhR0N2p+QHsj7PmvaB0B/JTKci3C\n"
    "IAUf/vW0JWFtaWJvb3Qgb3RoZXIgPG90aGVyQGFtaWJvb3QuaW52YWxpZD6IkAQT\n"
    "FggAOBYhBAcFMNnrntzVQNcJg1PKFLJZL4psBQJrDAY9AhsDBQsJCAcCBhUKCQgL\n"
    "AgQWAgMBAh4BAheAAAoJEFPKFLJZL4psn+0BAPekAKNMnD3SicSl9kaPEgyYefvb\n"
    "stAfLzYQZrKqapn8AP9UKZFH765jKYNh/D7/20Rcs9i/CsSycqoGOYYm1FR/Cg==\n"
    "=HSwf\n"
    "-----END PGP PUBLIC KEY BLOCK-----\n";

TEST(OpenPgpKeyId, TheKeyAskedForIsAcceptedByFingerprintLongOrShortIdInAnyCase) {
  for (const char* id : {"2B3E0BFE6617FAB31996EA67F99D1560B04C3DE5", "F99D1560B04C3DE5", "B04C3DE5",
                         "f99d1560b04c3de5"}) {
    EXPECT_EQ(openpgp_keyid_problem(kKey, id), std::nullopt) << id;
  }
  // A subkey's id finds its key, as on a keyserver.
  EXPECT_EQ(openpgp_keyid_problem(kKey, "69156421DB38F0AB"), std::nullopt);
  EXPECT_EQ(openpgp_keyid_problem(kOther, "070530D9EB9EDCD540D7098353CA14B2592F8A6C"),
            std::nullopt);
}

TEST(OpenPgpKeyId, BinaryKeysAreCheckedToo) {
  std::string body;
  for (std::size_t at = kKey.find("\n\n") + 2; kKey[at] != '='; at = kKey.find('\n', at) + 1) {
    body += kKey.substr(at, kKey.find('\n', at) - at);
  }
  auto binary = base64_decode(body);
  ASSERT_TRUE(binary);
  EXPECT_EQ(openpgp_keyid_problem(*binary, "B04C3DE5"), std::nullopt);
  EXPECT_NE(openpgp_keyid_problem(*binary, "592F8A6C"), std::nullopt);
}

TEST(OpenPgpKeyId, AnotherKeyIsRefusedNamingWhatCame) {
  EXPECT_EQ(openpgp_keyid_problem(kOther, "2B3E0BFE6617FAB31996EA67F99D1560B04C3DE5"),
            "the key returned is not 2B3E0BFE6617FAB31996EA67F99D1560B04C3DE5 (it has "
            "fingerprint 070530D9EB9EDCD540D7098353CA14B2592F8A6C)");
  // The id's digits elsewhere in the fingerprint are no match: the end counts.
  EXPECT_NE(openpgp_keyid_problem(kKey, "2B3E0BFE"), std::nullopt);
  // The right key next to a wrong one: the wrong one would be trusted too.
  EXPECT_EQ(openpgp_keyid_problem(kKey + kOther, "B04C3DE5"),
            "the key returned is not B04C3DE5 (it has fingerprint "
            "070530D9EB9EDCD540D7098353CA14B2592F8A6C)");
}

TEST(OpenPgpKeyId, WhatIsNotAKeyIsRefused) {
  auto empty = openpgp_keyid_problem("", "B04C3DE5");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->rfind("not an OpenPGP public key: the key is empty", 0), 0u) << *empty;
  auto html = openpgp_keyid_problem("<html>No results found</html>", "B04C3DE5");
  ASSERT_TRUE(html);
  EXPECT_EQ(html->rfind("not an OpenPGP public key: ", 0), 0u) << *html;
  std::string cut = kKey.substr(0, kKey.find("=G"));
  auto truncated = openpgp_keyid_problem(cut, "B04C3DE5");
  ASSERT_TRUE(truncated);
  EXPECT_NE(truncated->find("cut short"), std::string::npos) << *truncated;
}

}  // namespace
}  // namespace amiboot
