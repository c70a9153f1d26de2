// SPDX-License-Identifier: Apache-2.0
#include "agent/core/http_response.h"

#include <algorithm>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

// RFC 9110 5.6.2: the characters of a header name.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A field value may hold tabs, visible ASCII and obs-text, nothing else.
bool is_field_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return c == '\t' || (u >= 0x20 && u != 0x7f);
}

constexpr std::size_t k_max_chunk_line = 1024;  // size, extensions and CRLF

}  // namespace

HttpResponseParser::HttpResponseParser(HttpResponseLimits limits, bool no_body)
    : m_limits(limits), m_no_body(no_body) {}

HttpResponseParser::State HttpResponseParser::fail(State state, std::string why) {
  m_state = state;
  m_error = std::move(why);
  m_keep_alive = false;
  m_step = Step::Done;
  return m_state;
}

// Collects a line across calls. True when `out` holds a whole line (without
// its CRLF) and `got` is set; false when more bytes are needed or the line
// is malformed (m_state says which).
bool HttpResponseParser::line(std::string_view& data, std::string& out, bool& got) {
  got = false;
  const std::size_t limit =
      m_step == Step::ChunkSize ? k_max_chunk_line : m_limits.max_head_bytes - m_head_bytes;
  const std::size_t lf = data.find('\n');
  const std::size_t take = lf == std::string_view::npos ? data.size() : lf + 1;
  if (m_line.size() + take > limit) {
    fail(State::Malformed,
         m_step == Step::ChunkSize
             ? "a chunk size line is longer than " + std::to_string(limit) + " bytes"
             : "the status line and headers pass " + std::to_string(m_limits.max_head_bytes) +
                   " bytes");
    return false;
  }
  m_line.append(data.substr(0, take));
  data.remove_prefix(take);
  if (lf == std::string_view::npos) {
    return true;
  }
  if (m_step != Step::ChunkSize) {
    m_head_bytes += m_line.size();
  }
  if (m_line.size() < 2 || m_line[m_line.size() - 2] != '\r') {
    fail(State::Malformed, "a line ends in LF without CR");
    return false;
  }
  m_line.resize(m_line.size() - 2);
  if (m_line.find('\r') != std::string::npos) {
    fail(State::Malformed, "a CR inside a line");
    return false;
  }
  out = std::move(m_line);
  m_line.clear();
  got = true;
  return true;
}

// "HTTP/1.1 200 OK": version, a three-digit status, an optional reason.
bool HttpResponseParser::status_line(std::string_view text) {
  if (text.size() < 12 || text.substr(0, 7) != "HTTP/1." || (text[7] != '0' && text[7] != '1') ||
      text[8] != ' ' || !all_digits(text.substr(9, 3)) || (text.size() > 12 && text[12] != ' ')) {
    fail(State::Malformed, "the status line is not \"HTTP/1.x NNN reason\"");
    return false;
  }
  if (!std::all_of(text.begin(), text.end(), is_field_char)) {
    fail(State::Malformed, "a control character in the status line");
    return false;
  }
  m_http10 = text[7] == '0';
  m_status = std::stoi(std::string(text.substr(9, 3)));
  if (m_status < 100 || m_status > 599) {
    fail(State::Malformed, "status " + std::to_string(m_status) + " is outside 100-599");
    return false;
  }
  return true;
}

bool HttpResponseParser::header_line(std::string_view text, bool trailer) {
  if (++m_lines > m_limits.max_headers) {
    fail(State::Malformed, "more than " + std::to_string(m_limits.max_headers) + " header lines");
    return false;
  }
  if (!text.empty() && is_blank(text[0])) {
    fail(State::Malformed, "a folded header line (obsolete line folding)");
    return false;
  }
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(colon), is_tchar)) {
    fail(State::Malformed, "a header line is not \"Name: value\"");
    return false;
  }
  const std::string_view name = text.substr(0, colon);
  const std::string_view value = trim(text.substr(colon + 1), " \t");
  if (!std::all_of(value.begin(), value.end(), is_field_char)) {
    fail(State::Malformed, "a control character in a header value");
    return false;
  }
  if (trailer) {
    return true;  // read and checked, never used
  }
  if (iequals(name, "content-length")) {
    if (!all_digits(value) || value.size() > 15) {
      fail(State::Malformed, "Content-Length is not a number");
      return false;
    }
    const std::size_t length = std::stoull(std::string(value));
    if (m_has_length && length != m_length) {
      fail(State::Malformed, "two different Content-Length headers");
      return false;
    }
    m_has_length = true;
    m_length = length;
  } else if (iequals(name, "transfer-encoding")) {
    if (!iequals(value, "chunked") || m_chunked) {
      fail(State::Malformed, "a Transfer-Encoding other than one \"chunked\"");
      return false;
    }
    m_chunked = true;
  } else if (iequals(name, "connection")) {
    std::size_t pos = 0;
    while (pos <= value.size()) {
      std::size_t comma = std::min(value.find(',', pos), value.size());
      const std::string_view option = trim(value.substr(pos, comma - pos), " \t");
      m_connection_close = m_connection_close || iequals(option, "close");
      m_connection_keep_alive = m_connection_keep_alive || iequals(option, "keep-alive");
      pos = comma + 1;
    }
  }
  return true;
}

// The blank line after the headers: what frames the body.
bool HttpResponseParser::end_of_head() {
  if (m_status < 200) {
    if (m_status == 101) {
      fail(State::Malformed, "a protocol switch (101) that was not asked for");
      return false;
    }
    // An interim answer (100 Continue, 103): the real one follows.
    m_step = Step::StatusLine;
    m_has_length = m_chunked = m_connection_close = m_connection_keep_alive = false;
    m_length = 0;
    return true;
  }
  if (m_chunked && m_has_length) {
    fail(State::Malformed, "both Content-Length and Transfer-Encoding (a smuggling pattern)");
    return false;
  }
  m_keep_alive = m_http10 ? m_connection_keep_alive && !m_connection_close : !m_connection_close;
  if (m_no_body || m_status == 204 || m_status == 304) {
    m_step = Step::Done;
  } else if (m_chunked) {
    m_step = Step::ChunkSize;
  } else if (m_has_length) {
    if (m_length > m_limits.max_body_bytes) {
      fail(State::TooLarge, "the body is " + std::to_string(m_length) + " bytes, over the " +
                                std::to_string(m_limits.max_body_bytes) + "-byte cap");
      return false;
    }
    m_step = m_length == 0 ? Step::Done : Step::Body;
  } else {
    m_step = Step::UntilClose;
    m_keep_alive = false;
  }
  return true;
}

// "1a3f" or "1a3f;name=value": the size in hex, extensions ignored.
bool HttpResponseParser::chunk_size(std::string_view text) {
  const std::size_t end = std::min(text.find_first_of("; \t"), text.size());
  const std::string_view digits = text.substr(0, end);
  if (digits.empty() || digits.size() > 15 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return hex_value(c) >= 0; }) ||
      !std::all_of(text.begin(), text.end(), is_field_char)) {
    fail(State::Malformed, "a chunk size is not a hex number");
    return false;
  }
  std::size_t size = 0;
  for (char c : digits) {
    size = size * 16 + static_cast<std::size_t>(hex_value(c));
  }
  if (size > m_limits.max_body_bytes - m_body.size()) {
    fail(State::TooLarge,
         "the chunked body passes the " + std::to_string(m_limits.max_body_bytes) + "-byte cap");
    return false;
  }
  m_length = size;
  m_step = size == 0 ? Step::Trailers : Step::ChunkData;
  return true;
}

HttpResponseParser::State HttpResponseParser::feed(std::string_view data) {
  if (m_state != State::Incomplete) {
    if (!data.empty()) {
      m_keep_alive = false;  // bytes nobody asked for: the connection is out of step
    }
    return m_state;
  }
  m_started = m_started || !data.empty();
  std::string text;
  bool got = false;
  while (!data.empty() && m_state == State::Incomplete) {
    switch (m_step) {
      case Step::StatusLine:
      case Step::Headers:
      case Step::Trailers:
      case Step::ChunkSize: {
        if (!line(data, text, got)) {
          return m_state;
        }
        if (!got) {
          break;
        }
        bool ok = true;
        if (m_step == Step::StatusLine) {
          ok = status_line(text);
          m_step = ok ? Step::Headers : m_step;
        } else if (m_step == Step::ChunkSize) {
          ok = chunk_size(text);
        } else if (text.empty()) {
          ok = m_step == Step::Headers ? end_of_head() : true;
          if (ok && m_step == Step::Trailers) {
            m_step = Step::Done;
          }
        } else {
          ok = header_line(text, m_step == Step::Trailers);
        }
        if (!ok) {
          return m_state;
        }
        break;
      }
      case Step::Body:
      case Step::ChunkData: {
        const std::size_t take = std::min(m_length, data.size());
        m_body.append(data.substr(0, take));
        data.remove_prefix(take);
        m_length -= take;
        if (m_length == 0) {
          m_step = m_step == Step::Body ? Step::Done : Step::ChunkEnd;
        }
        break;
      }
      case Step::ChunkEnd: {
        // The CRLF after a chunk's data, possibly split across reads.
        m_line.push_back(data.front());
        data.remove_prefix(1);
        if (m_line.size() == 1 && m_line[0] != '\r') {
          return fail(State::Malformed, "a chunk is longer than its size");
        }
        if (m_line.size() == 2) {
          if (m_line[1] != '\n') {
            return fail(State::Malformed, "a chunk is longer than its size");
          }
          m_line.clear();
          m_step = Step::ChunkSize;
        }
        break;
      }
      case Step::UntilClose: {
        if (data.size() > m_limits.max_body_bytes - m_body.size()) {
          return fail(State::TooLarge, "the body passes the " +
                                           std::to_string(m_limits.max_body_bytes) + "-byte cap");
        }
        m_body.append(data);
        data = {};
        break;
      }
      case Step::Done:
        break;
    }
    if (m_step == Step::Done && m_state == State::Incomplete) {
      m_state = State::Complete;
    }
  }
  if (m_step == Step::Done && m_state == State::Incomplete) {
    m_state = State::Complete;
  }
  if (m_state == State::Complete && !data.empty()) {
    m_keep_alive = false;
  }
  return m_state;
}

HttpResponseParser::State HttpResponseParser::finish() {
  if (m_state != State::Incomplete) {
    return m_state;
  }
  if (m_step == Step::UntilClose) {
    m_state = State::Complete;
    return m_state;
  }
  return fail(State::Malformed, m_started ? "the connection closed before the response ended"
                                          : "the connection closed without a response");
}

}  // namespace amiboot
