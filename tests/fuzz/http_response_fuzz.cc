// SPDX-License-Identifier: Apache-2.0
// An HTTP response from IMDS (agent/core/http_response.h), as it arrives: the
// first byte chooses where the input is split into two reads, and a second
// parser reads it byte by byte; both must reach the same answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/core/http_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  amiboot::HttpResponseLimits limits;
  limits.max_head_bytes = 4096;
  limits.max_headers = 32;
  limits.max_body_bytes = 8192;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t split = text.empty() ? 0 : data[0] % (text.size() + 1);
  amiboot::HttpResponseParser two(limits);
  two.feed(text.substr(0, split));
  two.feed(text.substr(split));
  amiboot::HttpResponseParser bytes(limits);
  for (char c : text) {
    bytes.feed(std::string_view(&c, 1));
  }
  two.finish();
  bytes.finish();
  // The body is the answer only when complete; its size never passes the cap.
  const bool complete = two.state() == amiboot::HttpResponseParser::State::Complete;
  if (two.state() != bytes.state() || (complete && two.body() != bytes.body()) ||
      two.status() != bytes.status() || two.body().size() > limits.max_body_bytes ||
      bytes.body().size() > limits.max_body_bytes) {
    std::abort();
  }
  return 0;
}
