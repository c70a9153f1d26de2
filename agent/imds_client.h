// SPDX-License-Identifier: Apache-2.0
// IMDSv2 client: the requests of a round go out together over a few
// keep-alive connections (agent/http_connections.h, plain HTTP without libcurl). One token per run,
// refreshed on 401; retries with backoff under a deadline; never follows redirects nor proxies;
// never logs the token.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/metadata.h"
#include "agent/core/result.h"
#include "agent/retry.h"

namespace amiboot {

struct ImdsOptions {
  std::string base_url = "http://169.254.169.254";  // or http://[fd00:ec2::254]
  RetryPolicy retry;
  std::chrono::milliseconds request_timeout{2000};  // one HTTP request
  bool allow_imdsv1 = false;  // fall back to tokenless reads when the PUT fails
  std::size_t max_response_bytes = 1 << 20;
  std::size_t max_user_data_bytes = 1 << 20;
  /// Receives one line per notable event (retry, token refresh); never the token.
  std::function<void(const std::string&)> log;
};

class ImdsClient {
 public:
  explicit ImdsClient(ImdsOptions options);
  ~ImdsClient();
  ImdsClient(const ImdsClient&) = delete;
  ImdsClient& operator=(const ImdsClient&) = delete;

  /// GET /latest/<path>. nullopt on 404. Errors name the path.
  Result<std::optional<std::string>> get(const std::string& path);

  /// The reads amiboot needs, in three rounds (token; identity document,
  /// hostname, key and mapping listings, user data; each key and mapping
  /// entry) under one overall deadline (options.retry.deadline).
  Result<SourceData> fetch_all();

  /// Requests sent so far (token PUTs included), for the bench and tests.
  int request_count() const;

  /// Optional reads that failed in fetch_all() (their fields left empty).
  const std::vector<std::string>& warnings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace amiboot
