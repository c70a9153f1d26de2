// SPDX-License-Identifier: Apache-2.0
// The codecs user data and write_files share: gzip (zlib, loaded when gzip
// data is first met: zlib_functions.h), base64 and quoted-printable. Pure
// functions with size caps; errors never quote data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace amiboot {

/// Starts with gzip's magic bytes.
bool is_gzip(std::string_view data);

enum class InflateFailure { None, TooLarge, Corrupt };

struct Inflated {
  std::string data;  // empty from gzip_inflated_size()
  std::size_t size = 0;
  InflateFailure failure = InflateFailure::None;
  std::string message;
};

/// Inflates one or more gzip members, refusing to produce more than `cap`
/// bytes (checked per chunk, so a bomb never allocates past the cap).
Inflated inflate_gzip(std::string_view input, std::size_t cap);
/// inflate_gzip() that keeps only the size: what a gzip member would cost,
/// found in constant memory.
Inflated gzip_inflated_size(std::string_view input, std::size_t cap);
std::string gzip_too_large_message(std::size_t limit);
/// inflate_gzip() as a Result: the data, or why not.
Result<std::string> gunzip(const std::string& data, std::size_t max_bytes);

/// Standard base64 (RFC 4648 alphabet). Whitespace anywhere is skipped and
/// missing padding is accepted; any other character outside the alphabet, or
/// data after the padding, is an error that gives the offset, never the data.
Result<std::string> base64_decode(std::string_view text);
/// `text` without the characters that are neither base64 nor whitespace,
/// as Python's base64.b64decode (cloud-init's decoder) drops them.
std::string base64_alphabet_only(std::string_view text);
/// Standard base64 with padding, no line breaks.
std::string base64_encode(std::string_view data);

/// Quoted-printable as Python's email package decodes it: `=XX` (either
/// case) is a byte, `=` before a line break (trailing blanks allowed) is a
/// soft line break, and a malformed `=` is kept as it is.
std::string quoted_printable_decode(std::string_view text);

}  // namespace amiboot
