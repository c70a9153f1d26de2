// SPDX-License-Identifier: Apache-2.0
#include "agent/core/mime.h"

#include "agent/core/codecs.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

// One line of `text` starting at `pos`, without its LF or CRLF; `next` is
// where the following line starts.
std::string_view line_at(std::string_view text, std::size_t pos, std::size_t& next) {
  std::size_t eol = text.find('\n', pos);
  std::size_t end = eol == std::string_view::npos ? text.size() : eol;
  next = eol == std::string_view::npos ? text.size() : eol + 1;
  std::string_view line = text.substr(pos, end - pos);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

// Length of the field name when `line` is a header line ("Name: value"),
// else 0. The name characters are those Python's feedparser accepts.
std::size_t header_name_length(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] >= '!' && line[i] <= '~' && line[i] != ':') {
    ++i;
  }
  return i > 0 && i < line.size() && line[i] == ':' ? i : 0;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 2231 extended value: charset'language'percent-encoded.
std::string decode_rfc2231(std::string_view value) {
  std::size_t first = value.find('\'');
  std::size_t second = first == std::string_view::npos ? first : value.find('\'', first + 1);
  if (second != std::string_view::npos) {
    value.remove_prefix(second + 1);
  }
  return percent_decode(value);
}

}  // namespace

std::optional<std::string> MimeEntity::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

MimeEntity parse_mime_entity(std::string_view text) {
  MimeEntity entity;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t next = 0;
    std::string_view line = line_at(text, pos, next);
    if (line.empty()) {
      pos = next;  // the separator belongs to neither headers nor body
      break;
    }
    if (is_blank(line.front()) && !entity.headers.empty()) {
      // Unfolding removes only the line break; the leading blank stays.
      entity.headers.back().second += line;
      pos = next;
      continue;
    }
    std::size_t name_length = header_name_length(line);
    if (name_length == 0) {
      break;
    }
    std::string_view value = line.substr(name_length + 1);
    while (!value.empty() && is_blank(value.front())) {
      value.remove_prefix(1);
    }
    entity.headers.emplace_back(std::string(line.substr(0, name_length)), std::string(value));
    pos = next;
  }
  for (auto& header : entity.headers) {
    header.second = std::string(trim(header.second));
  }
  entity.body = std::string(text.substr(pos));
  return entity;
}

bool looks_like_mime(std::string_view text) {
  // Only the header block matters; do not copy a large body to find out.
  std::size_t separator = text.find("\n\n");
  std::size_t crlf_separator = text.find("\r\n\r\n");
  std::size_t end = std::min(separator, crlf_separator);
  std::string_view head = end == std::string_view::npos ? text : text.substr(0, end + 1);
  return parse_mime_entity(head).header("Content-Type").has_value();
}

std::string MimeHeaderValue::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

MimeHeaderValue parse_mime_header_value(std::string_view text) {
  MimeHeaderValue result;
  std::size_t semicolon = text.find(';');
  result.value = lowercase(trim(text.substr(0, semicolon)));
  std::size_t i = semicolon == std::string_view::npos ? text.size() : semicolon + 1;
  while (i < text.size()) {
    while (i < text.size() && (is_space(text[i]) || text[i] == ';')) {
      ++i;
    }
    std::size_t name_start = i;
    while (i < text.size() && text[i] != '=' && text[i] != ';') {
      ++i;
    }
    std::string name = lowercase(trim(text.substr(name_start, i - name_start)));
    if (i >= text.size() || text[i] == ';') {
      continue;  // a parameter without a value says nothing we need
    }
    ++i;  // '='
    while (i < text.size() && is_blank(text[i])) {
      ++i;
    }
    std::string value;
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) {
          ++i;
        }
        value += text[i++];
      }
      ++i;  // closing quote
      while (i < text.size() && text[i] != ';') {
        ++i;
      }
    } else {
      std::size_t value_start = i;
      while (i < text.size() && text[i] != ';') {
        ++i;
      }
      value = std::string(trim(text.substr(value_start, i - value_start)));
    }
    if (name.empty()) {
      continue;
    }
    if (name.back() == '*') {
      name.pop_back();
      result.params[name] = decode_rfc2231(value);  // the extended form wins
    } else {
      result.params.emplace(name, value);
    }
  }
  return result;
}

Result<std::vector<std::string_view>> split_multipart(std::string_view body,
                                                      std::string_view boundary) {
  if (boundary.empty()) {
    return error("multipart message has no boundary");
  }
  std::string delimiter = "--" + std::string(boundary);
  std::vector<std::string_view> parts;
  bool seen_delimiter = false;
  std::size_t part_start = 0;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t next = 0;
    std::string_view line = line_at(body, pos, next);
    bool is_delimiter = false;
    bool is_close = false;
    if (line.starts_with(delimiter)) {
      std::string_view rest = line.substr(delimiter.size());
      is_close = rest.starts_with("--");
      if (is_close) {
        rest.remove_prefix(2);
      }
      is_delimiter = std::all_of(rest.begin(), rest.end(), is_blank);
    }
    if (is_delimiter) {
      if (seen_delimiter) {
        // The line break before a delimiter belongs to the delimiter (RFC 2046).
        std::size_t end = pos;
        if (end > part_start && body[end - 1] == '\n') {
          --end;
        }
        if (end > part_start && body[end - 1] == '\r') {
          --end;
        }
        parts.push_back(body.substr(part_start, end - part_start));
      }
      seen_delimiter = true;
      if (is_close) {
        return parts;
      }
      part_start = next;
    }
    pos = next;
  }
  if (!seen_delimiter) {
    return error("multipart boundary never occurs in the body");
  }
  parts.push_back(body.substr(std::min(part_start, body.size())));
  return parts;
}

Result<std::string> decode_transfer_encoding(std::string_view body, std::string_view encoding) {
  std::string name = lowercase(trim(encoding));
  if (name.empty() || name == "7bit" || name == "8bit" || name == "binary") {
    return std::string(body);
  }
  if (name == "base64") {
    return base64_decode(body);
  }
  if (name == "quoted-printable") {
    return quoted_printable_decode(body);
  }
  std::string shown;
  for (char c : name.substr(0, 40)) {
    shown += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '?';
  }
  return error("unsupported Content-Transfer-Encoding '" + shown + "'");
}

}  // namespace amiboot
