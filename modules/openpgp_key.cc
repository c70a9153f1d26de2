// SPDX-License-Identifier: Apache-2.0
#include "modules/openpgp_key.h"

#include <cctype>
#include <cstdint>
#include <vector>

#include "agent/core/codecs.h"
#include "agent/core/result.h"
#include "agent/core/sha1.h"
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

// The packets of an armored block (`text` starts with kBegin).
Result<std::string> armored_bytes(std::string_view trimmed) {
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
    return error("no '" + std::string(kEnd) + "' line: the key is cut short");
  }
  auto bytes = base64_decode(body);
  if (!bytes) {
    return error("the armoured key's body is not base64");
  }
  return *bytes;
}

struct Packet {
  int tag = 0;
  std::string_view body;
};

// RFC 4880 4.2 (old and new formats; partial lengths are for data packets,
// never in keys, and end the walk as an error).
Result<std::vector<Packet>> packets(std::string_view bytes) {
  std::vector<Packet> out;
  std::size_t at = 0;
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  while (at < bytes.size()) {
    unsigned char b = byte(at++);
    if ((b & 0x80) == 0) {
      return error("not an OpenPGP packet at byte " + std::to_string(at - 1));
    }
    Packet p;
    std::size_t length = 0;
    auto need = [&](std::size_t n) { return at + n <= bytes.size(); };
    if ((b & 0x40) != 0) {
      p.tag = b & 0x3f;
      if (!need(1)) {
        return error("a packet is truncated");
      }
      unsigned char l = byte(at++);
      if (l < 192) {
        length = l;
      } else if (l < 224) {
        if (!need(1)) {
          return error("a packet is truncated");
        }
        length = ((l - 192) << 8) + byte(at++) + 192;
      } else if (l == 255) {
        if (!need(4)) {
          return error("a packet is truncated");
        }
        length = (std::size_t{byte(at)} << 24) | (byte(at + 1) << 16) | (byte(at + 2) << 8) |
                 byte(at + 3);
        at += 4;
      } else {
        return error("a partial-length packet, which keys never hold");
      }
    } else {
      p.tag = (b >> 2) & 0x0f;
      int type = b & 3;
      if (type == 3) {
        return error("an indeterminate-length packet, which keys never hold");
      }
      std::size_t n = std::size_t{1} << type;
      if (!need(n)) {
        return error("a packet is truncated");
      }
      for (std::size_t i = 0; i < n; ++i) {
        length = (length << 8) | byte(at++);
      }
    }
    if (!need(length)) {
      return error("a packet is truncated");
    }
    p.body = bytes.substr(at, length);
    at += length;
    out.push_back(p);
  }
  return out;
}

// A version 4 key's fingerprint in upper-case hex (RFC 4880 12.2).
std::string v4_fingerprint(std::string_view body) {
  std::string framed;
  framed += static_cast<char>(0x99);
  framed += static_cast<char>((body.size() >> 8) & 0xff);
  framed += static_cast<char>(body.size() & 0xff);
  framed += body;
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string hex;
  for (std::uint8_t b : sha1(framed)) {
    hex += kHex[b >> 4];
    hex += kHex[b & 0xf];
  }
  return hex;
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
  auto bytes = armored_bytes(trimmed);
  if (!bytes) {
    return bytes.error().message;
  }
  return first_packet_problem(*bytes);
}

std::optional<std::string> openpgp_keyid_problem(std::string_view data, std::string_view keyid) {
  std::string want;
  for (char c : keyid) {
    want += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (auto why = openpgp_public_key_problem(data)) {
    return "not an OpenPGP public key: " + *why;
  }
  std::string_view trimmed = trim(data);
  std::string armored_data;
  std::string_view bytes = data;
  if (trimmed.starts_with(kBegin)) {
    // Every block, since apt reads every block of a keyring file.
    for (std::size_t at = 0; (at = trimmed.find(kBegin, at)) != std::string_view::npos;
         at += kBegin.size()) {
      auto decoded = armored_bytes(trimmed.substr(at));
      if (!decoded) {
        return "not an OpenPGP public key: " + decoded.error().message;
      }
      armored_data += *decoded;
    }
    bytes = armored_data;
  }
  auto list = packets(bytes);
  if (!list) {
    return "not an OpenPGP public key: " + list.error().message;
  }
  // Each primary key with its subkeys: {fingerprints, matched}.
  std::vector<std::pair<std::vector<std::string>, bool>> keys;
  for (const Packet& p : *list) {
    if (p.tag == 5 || p.tag == 7) {
      return "not an OpenPGP public key: it holds a secret key";
    }
    if (p.tag != 6 && p.tag != 14) {
      continue;
    }
    if (p.tag == 14 && keys.empty()) {
      return "not an OpenPGP public key: a subkey before any primary key";
    }
    if (p.body.empty() || p.body[0] != 4) {
      return "a version " + std::to_string(p.body.empty() ? 0 : int(p.body[0])) +
             " key, whose id amiboot cannot check (only version 4); give the key itself "
             "with `key:` instead of `keyid:`";
    }
    std::string fingerprint = v4_fingerprint(p.body);
    if (p.tag == 6) {
      keys.push_back({{}, false});
    }
    keys.back().first.push_back(fingerprint);
    keys.back().second = keys.back().second || fingerprint.ends_with(want);
  }
  if (keys.empty()) {
    return "not an OpenPGP public key: no public-key packet";
  }
  std::string wrong;
  for (const auto& [fingerprints, matched] : keys) {
    if (!matched) {
      wrong += (wrong.empty() ? "" : ", ") + fingerprints.front();
    }
  }
  if (!wrong.empty()) {
    return "the key returned is not " + want + " (it has fingerprint " + wrong + ")";
  }
  return std::nullopt;
}

}  // namespace amiboot
