// SPDX-License-Identifier: Apache-2.0
#include "agent/core/codecs.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "agent/core/strings.h"
#include "agent/core/zlib_functions.h"

namespace amiboot {

bool is_gzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

namespace {

Inflated inflate_gzip(std::string_view input, std::size_t cap, bool keep) {
  Inflated result;
  auto fail = [&result](std::string message) {
    result.data.clear();
    result.failure = InflateFailure::Corrupt;
    result.message = std::move(message);
    return std::move(result);
  };
  if (!is_gzip(input)) {
    return fail("not gzip data");
  }
  auto z = zlib();
  if (!z) {
    return fail(z.error().message);
  }
  const Zlib& lib = **z;
  z_stream stream{};
  // inflateInit2() of zlib.h, a macro that names the zlib.h it was built with.
  if (lib.inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION,
                        static_cast<int>(sizeof(z_stream))) != Z_OK) {
    return fail("cannot start zlib");
  }
  struct Guard {
    const Zlib& lib;
    z_stream* s;
    ~Guard() { lib.inflateEnd(s); }
  } guard{lib, &stream};

  // User data is at most a few MiB, far below zlib's 4 GiB avail_in.
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  std::array<char, 64 * 1024> chunk;
  while (true) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    int rc = lib.inflate(&stream, Z_NO_FLUSH);
    std::size_t produced = chunk.size() - stream.avail_out;
    // Checked per chunk, before the output grows: a bomb is refused after at
    // most cap + one chunk of inflating, and never allocates past the cap.
    if (produced > cap - result.size) {
      result.data.clear();
      result.data.shrink_to_fit();
      result.failure = InflateFailure::TooLarge;
      return result;
    }
    result.size += produced;
    if (keep) {
      if (result.data.capacity() < result.data.size() + produced) {
        result.data.reserve(
            std::min(cap, std::max(result.data.capacity() * 2, result.data.size() + produced)));
      }
      result.data.append(chunk.data(), produced);
    }

    if (rc == Z_STREAM_END) {
      std::string_view rest = input.substr(input.size() - stream.avail_in);
      if (std::all_of(rest.begin(), rest.end(), [](char c) { return c == '\0'; })) {
        return result;  // gzip(1) also accepts zero padding after the stream
      }
      if (!is_gzip(rest)) {
        return fail("corrupt gzip data (trailing bytes after the gzip stream)");
      }
      lib.inflateReset(&stream);  // another member, as `cat a.gz b.gz` makes
      continue;
    }
    if (rc == Z_OK) {
      continue;
    }
    if (rc == Z_BUF_ERROR && stream.avail_in == 0) {
      return fail("corrupt gzip data (truncated)");
    }
    if (rc == Z_MEM_ERROR) {
      return fail("out of memory while inflating gzip data");
    }
    return fail(std::string("corrupt gzip data (") +
                (stream.msg != nullptr ? stream.msg : "zlib error " + std::to_string(rc)) + ")");
  }
}

}  // namespace

Inflated inflate_gzip(std::string_view input, std::size_t cap) {
  return inflate_gzip(input, cap, true);
}

Inflated gzip_inflated_size(std::string_view input, std::size_t cap) {
  return inflate_gzip(input, cap, false);
}

std::string gzip_too_large_message(std::size_t limit) {
  return "gzip data inflates to more than " + size_text(limit) + "; refusing it";
}

Result<std::string> gunzip(const std::string& data, std::size_t max_bytes) {
  Inflated inflated = inflate_gzip(data, max_bytes);
  if (inflated.failure == InflateFailure::TooLarge) {
    return error(gzip_too_large_message(max_bytes));
  }
  if (inflated.failure != InflateFailure::None) {
    return error(inflated.message);
  }
  return std::move(inflated.data);
}

Result<std::string> base64_decode(std::string_view text) {
  static constexpr std::array<signed char, 256> k_table = [] {
    std::array<signed char, 256> table{};
    table.fill(-1);
    constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
      table[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
    }
    return table;
  }();

  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t bits = 0;
  int bit_count = 0;
  std::size_t symbols = 0;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (is_space(c)) {
      continue;
    }
    if (c == '=') {
      if (++padding > 2) {
        return error("invalid base64: too much padding at offset " + std::to_string(i));
      }
      continue;
    }
    int value = k_table[static_cast<unsigned char>(c)];
    if (value < 0) {
      return error("invalid base64: unexpected character at offset " + std::to_string(i));
    }
    if (padding > 0) {
      return error("invalid base64: data after padding at offset " + std::to_string(i));
    }
    ++symbols;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>((bits >> bit_count) & 0xff);
    }
  }
  // A lone symbol in the last group cannot hold a byte: the data was cut short.
  if (symbols % 4 == 1) {
    return error("invalid base64: truncated data");
  }
  if (padding > 0 && (symbols + padding) % 4 != 0) {
    return error("invalid base64: wrong padding");
  }
  return out;
}

std::string base64_alphabet_only(std::string_view text) {
  std::string kept;
  kept.reserve(text.size());
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=' ||
        is_space(c)) {
      kept += c;
    }
  }
  return kept;
}

std::string base64_encode(std::string_view data) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < data.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) {
      n |= static_cast<unsigned char>(data[i + 1]) << 8;
    }
    if (i + 2 < data.size()) {
      n |= static_cast<unsigned char>(data[i + 2]);
    }
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < data.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string quoted_printable_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '=') {
      out += c;
      ++i;
      continue;
    }
    // Soft line break: '=' then optional trailing blanks then the line end.
    std::size_t j = i + 1;
    while (j < text.size() && is_blank(text[j])) {
      ++j;
    }
    if (j == text.size()) {
      i = j;
      continue;
    }
    if (text[j] == '\n') {
      i = j + 1;
      continue;
    }
    if (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') {
      i = j + 2;
      continue;
    }
    if (i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 3;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '=') {
      // "==" is what some broken encoders write for a literal '='; quopri agrees.
      out += '=';
      i += 2;
      continue;
    }
    out += '=';  // malformed escape: keep it, as Python does
    ++i;
  }
  return out;
}

}  // namespace amiboot
