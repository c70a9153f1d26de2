// SPDX-License-Identifier: Apache-2.0
// Just enough MIME (RFC 2045/2046) to read what cloud-init's make-mime and
// Python's email package write: header blocks, multipart bodies, base64 and
// quoted-printable. Bytes in, bytes out; charsets are left alone.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/codecs.h"
#include "agent/core/result.h"

namespace amiboot {

/// A header block and the body that follows it.
struct MimeEntity {
  /// Names as written; values unfolded, without the leading blank after ':'.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// Value of the first header called `name` (case-insensitive).
  std::optional<std::string> header(std::string_view name) const;
};

/// Splits `text` into headers and body. Header lines may be folded and end in
/// LF or CRLF. Like Python's email parser, the header block ends at an empty
/// line or at the first line that is not a header; that line starts the body.
MimeEntity parse_mime_entity(std::string_view text);

/// True when `text` opens with a header block that has a Content-Type, i.e.
/// it is a MIME message rather than a script or a cloud-config.
bool looks_like_mime(std::string_view text);

/// A structured header value such as `multipart/mixed; boundary="x"`.
struct MimeHeaderValue {
  std::string value;                          // lowercased: "multipart/mixed"
  std::map<std::string, std::string> params;  // names lowercased, values unquoted

  /// The parameter's value, or "" when absent.
  std::string param(const std::string& name) const;
};

/// Parses `type/subtype; name=value; name="quoted value"`. RFC 2231
/// `name*=charset''percent-encoded` values are decoded into `name`.
MimeHeaderValue parse_mime_header_value(std::string_view value);

/// The bodies of a multipart body's parts, in order, each without the line
/// break that belongs to the next delimiter. Preamble and epilogue are
/// dropped; a missing closing delimiter is tolerated (the last part runs to
/// the end). Error when the boundary never occurs.
Result<std::vector<std::string_view>> split_multipart(std::string_view body,
                                                      std::string_view boundary);

/// Undoes a Content-Transfer-Encoding: "", 7bit, 8bit and binary are identity;
/// base64 and quoted-printable are decoded; anything else is an error.
Result<std::string> decode_transfer_encoding(std::string_view body, std::string_view encoding);

}  // namespace amiboot
