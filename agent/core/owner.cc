// SPDX-License-Identifier: Apache-2.0
#include "agent/core/owner.h"

#include <algorithm>
#include <charconv>

#include "agent/core/strings.h"

namespace amiboot {

std::optional<OwnerParts> split_owner(std::string_view owner) {
  std::size_t colon = owner.find(':');
  OwnerParts parts{std::string(owner.substr(0, colon)), ""};
  if (colon != std::string_view::npos) {
    parts.group = std::string(owner.substr(colon + 1));
    if (parts.group.empty() || parts.group.find(':') != std::string::npos) {
      return std::nullopt;
    }
  }
  if (parts.user.empty()) {
    return std::nullopt;
  }
  return parts;
}

std::optional<std::uint32_t> parse_id(std::string_view digits) {
  if (!all_digits(digits)) {
    return std::nullopt;
  }
  std::uint32_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size() || id == UINT32_MAX) {
    return std::nullopt;
  }
  return id;
}

std::string owner_problem(std::string_view owner) {
  auto parts = split_owner(owner);
  if (!parts) {
    return "expected user or user:group, got '" + std::string(owner) + "'";
  }
  for (const std::string* part : {&parts->user, &parts->group}) {
    if (part->empty()) {
      continue;
    }
    if (all_digits(*part)) {
      if (!parse_id(*part)) {
        return "'" + *part + "' is not a valid " + (part == &parts->user ? "uid" : "gid") +
               " (0 to 4294967294)";
      }
    } else if (std::any_of(part->begin(), part->end(), [](char c) {
                 return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || is_space(c);
               })) {
      return "a space or control character in the " +
             std::string(part == &parts->user ? "user" : "group") + " name";
    }
  }
  return "";
}

}  // namespace amiboot
