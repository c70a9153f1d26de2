// SPDX-License-Identifier: Apache-2.0
// Small string helpers every layer uses, each in one place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace amiboot {

inline constexpr std::string_view kWhitespace = " \t\r\n\f\v";

/// `s` without leading and trailing characters from `chars`.
std::string_view trim(std::string_view s, std::string_view chars = kWhitespace);

/// C's isspace and isblank in the C locale, for char (no cast, no locale).
constexpr bool is_space(char c) {
  return kWhitespace.find(c) != std::string_view::npos;
}
constexpr bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

/// True for a non-empty run of ASCII digits.
bool all_digits(std::string_view s);

/// The fields of an /etc/passwd, /etc/group or /etc/shadow line, empty ones kept.
std::vector<std::string> split_colon_fields(std::string_view line);

/// A file mode as four octal digits: "0644".
std::string octal_mode(unsigned mode);

/// A size for people, in binary units: exact when it is a whole number of
/// them ("100 bytes", "64 KiB", "32 MiB": a limit reads as it was set),
/// else with one decimal ("7.8 GiB", "1.5 TiB": a disk).
std::string size_text(unsigned long long bytes);

/// The value of a hex digit, -1 for anything else.
int hex_value(char c);

/// `s` with its ASCII letters in lower case (std::tolower in the C locale).
std::string lowercase(std::string_view s);
/// Whether `a` and `b` are equal but for the case of ASCII letters.
bool iequals(std::string_view a, std::string_view b);

/// The lines of a text file, without their '\n'. A final line without one
/// still counts; a final '\n' adds no empty line, so that join_lines gives
/// back the text (with a '\n' added at the end when it had none).
std::vector<std::string> split_lines(std::string_view text);

/// Each line followed by '\n'.
std::string join_lines(const std::vector<std::string>& lines);

}  // namespace amiboot
