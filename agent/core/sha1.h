// SPDX-License-Identifier: Apache-2.0
// SHA-1 (FIPS 180-4), only for OpenPGP version 4 key fingerprints
// (RFC 4880 12.2), which are defined as SHA-1 hashes; never for security
// decisions of amiboot's own.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace amiboot {

std::array<std::uint8_t, 20> sha1(std::string_view data);

}  // namespace amiboot
