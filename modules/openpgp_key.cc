// SPDX-License-Identifier: Apache-2.0
#include "modules/openpgp_key.h"

#include <vector>

#include "agent/core/codecs.h"
#include "agent/core/strings.h"

namespace amiboot {

namespace {

constexpr std::string_view kBegin = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
constexpr std::string_view kEnd = "-----END PGP PUBLIC KEY BLOCK-----";

// RFC 4880 4.2: bit 7 set; new format (bit 6) holds the tag in bits 0-5,
// the old one in bits 2-5.
std::optional<std::string> first_packet_problem(std::string_view bytes) {
  if (bytes.empty()) {
    return "the key is empty";
  }
  auto b = static_cast<unsigned char>(bytes[0]);
  if ((b & 0x80) == 0) {
    return "the data does not start with an OpenPGP packet";
  }
  int tag = (b & 0x40) != 0 ? (b & 0x3f) : ((b >> 2) & 0x0f);
  if (tag == 5) {
    return "this is a private (secret) key; give the public key (gpg --export --armor)";
  }
  if (tag != 6) {
    return "the first OpenPGP packet is not a public key (packet tag " + std::to_string(tag) + ")";
  }
  if (bytes.size() < 8) {
    return "the public-key packet is truncated";
  }
  return std::nullopt;
}

}  // namespace

OpenPgpEncoding openpgp_encoding(std::string_view text) {
  return trim(text).starts_with(kBegin) ? OpenPgpEncoding::Armored : OpenPgpEncoding::Binary;
}

std::optional<std::string> openpgp_public_key_problem(std::string_view text) {
  std::string_view trimmed = trim(text);
  if (trimmed.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
    return "this is a private key block; give the public key (gpg --export --armor)";
  }
  if (!trimmed.starts_with("-----BEGIN")) {
    if (trimmed.starts_with("-----")) {
      return "expected '" + std::string(kBegin) + "'";
    }
    if (auto why = first_packet_problem(text)) {
      return *why + " (expected an ASCII-armored '" + std::string(kBegin) +
             "' or a binary OpenPGP public key)";
    }
    return std::nullopt;
  }
  if (!trimmed.starts_with(kBegin)) {
    return "expected '" + std::string(kBegin) + "', got another armour type";
  }
  std::vector<std::string> lines = split_lines(trimmed);
  std::size_t i = 1;
  // Armour headers ("Version: ...", "Comment: ...") up to the blank line.
  while (i < lines.size() && !trim(lines[i]).empty() && lines[i].find(": ") != std::string::npos) {
    ++i;
  }
  if (i < lines.size() && trim(lines[i]).empty()) {
    ++i;
  }
  std::string body;
  bool ended = false;
  for (; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    if (line == kEnd) {
      ended = true;
      break;
    }
    if (line.starts_with("=")) {
      continue;  // the CRC-24 checksum
    }
    body += line;
  }
  if (!ended) {
    return "no '" + std::string(kEnd) + "' line: the key is cut short";
  }
  auto bytes = base64_decode(body);
  if (!bytes) {
    return "the armoured key's body is not base64";
  }
  return first_packet_problem(*bytes);
}

}  // namespace amiboot
