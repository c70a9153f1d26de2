// SPDX-License-Identifier: Apache-2.0
// Host names and addresses as configuration files take them (ntp servers,
// rsyslog remotes): checked before they are written, so that a value can
// never carry a second directive (a space, a newline) into the file.
#pragma once

#include <arpa/inet.h>

#include <cctype>
#include <string>
#include <string_view>

namespace amiboot {

inline bool is_ipv4_address(std::string_view s) {
  unsigned char bytes[4];
  return inet_pton(AF_INET, std::string(s).c_str(), bytes) == 1;
}

inline bool is_ipv6_address(std::string_view s) {
  unsigned char bytes[16];
  return inet_pton(AF_INET6, std::string(s).c_str(), bytes) == 1;
}

/// RFC 1123 host names: labels of letters, digits and '-' (not first or
/// last), 1 to 63 bytes, separated by '.'; a trailing '.' is allowed.
inline bool is_host_name(std::string_view s) {
  if (!s.empty() && s.back() == '.') {
    s.remove_suffix(1);
  }
  if (s.empty() || s.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find('.', start);
    std::string_view label = s.substr(start, end == std::string_view::npos ? s.npos : end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return true;
}

/// An IPv4 or IPv6 address, or a host name.
inline bool is_host(std::string_view s) {
  return is_ipv4_address(s) || is_ipv6_address(s) || is_host_name(s);
}

/// An address with an optional prefix length: 10.0.0.0/8, fd00::/8, 192.0.2.1.
inline bool is_address_or_cidr(std::string_view s) {
  std::size_t slash = s.find('/');
  std::string_view address = s.substr(0, slash);
  bool v4 = is_ipv4_address(address);
  if (!v4 && !is_ipv6_address(address)) {
    return false;
  }
  if (slash == std::string_view::npos) {
    return true;
  }
  std::string_view prefix = s.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3) {
    return false;
  }
  int bits = 0;
  for (char c : prefix) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
    bits = bits * 10 + (c - '0');
  }
  return bits <= (v4 ? 32 : 128);
}

}  // namespace amiboot
