// SPDX-License-Identifier: Apache-2.0
// An HTTP/1.1 response, read as its bytes arrive (the plain-http IMDS
// client, agent/http_connections.h). Strict: CRLF line ends, token header
// names, no control characters, one framing (Content-Length, chunked, or
// until the connection closes); limits on the head and the body, so that a
// hostile or broken answer costs at most the limits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace amiboot {

struct HttpResponseLimits {
  std::size_t max_head_bytes = 16 * 1024;  // status line, headers and trailers together
  std::size_t max_headers = 100;           // header and trailer lines
  std::size_t max_body_bytes = 1 << 20;
};

class HttpResponseParser {
 public:
  enum class State { Incomplete, Complete, Malformed, TooLarge };

  /// `no_body`: the answer to a HEAD request (a length, but no body).
  explicit HttpResponseParser(HttpResponseLimits limits = {}, bool no_body = false);

  /// The next bytes from the connection. Bytes after a complete response
  /// (a server answering what was not asked) make the connection unusable
  /// for another request: keep_alive() turns false.
  State feed(std::string_view data);
  /// The connection closed: a body read until close ends here; anything
  /// else unfinished is Malformed.
  State finish();

  State state() const { return m_state; }
  /// Whether any byte of the response arrived.
  bool started() const { return m_started; }
  int status() const { return m_status; }
  /// The body; the whole answer only when Complete.
  const std::string& body() const { return m_body; }
  /// Why the response is Malformed or TooLarge; never quotes the bytes.
  const std::string& error() const { return m_error; }
  /// Whether the connection may carry another request after this response.
  bool keep_alive() const { return m_keep_alive; }

 private:
  enum class Step {
    StatusLine,
    Headers,
    Body,
    UntilClose,
    ChunkSize,
    ChunkData,
    ChunkEnd,
    Trailers,
    Done
  };

  State fail(State state, std::string why);
  bool line(std::string_view& data, std::string& out, bool& got);
  bool status_line(std::string_view text);
  bool header_line(std::string_view text, bool trailer);
  bool end_of_head();
  bool chunk_size(std::string_view text);

  HttpResponseLimits m_limits;
  bool m_no_body;
  State m_state = State::Incomplete;
  Step m_step = Step::StatusLine;
  bool m_started = false;
  bool m_keep_alive = true;
  bool m_http10 = false;
  bool m_chunked = false;
  bool m_has_length = false;
  bool m_connection_close = false;
  bool m_connection_keep_alive = false;
  int m_status = 0;
  std::size_t m_length = 0;      // Content-Length, then what is left of the body or chunk
  std::size_t m_head_bytes = 0;  // status line, headers and trailers so far
  std::size_t m_lines = 0;
  std::string m_line;  // a line still arriving
  std::string m_body;
  std::string m_error;
};

}  // namespace amiboot
