// SPDX-License-Identifier: Apache-2.0
// A fake IMDSv2 on loopback: real HTTP (cpp-httplib) with the token flow and
// fault injection, for tests, the demo and the bench.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace amiboot::testing {

class FakeImds {
 public:
  /// Serves a small default instance (see fake_imds.cc). port 0 = any free port.
  /// With start=false, call start() later (e.g. to test connection refused).
  explicit FakeImds(int port = 0, bool start = true);
  ~FakeImds();

  void start();
  void stop();
  int port() const;
  std::string url() const;  // "http://127.0.0.1:PORT"

  /// Sets a leaf below /latest/, e.g. "meta-data/local-hostname" or
  /// "dynamic/instance-identity/document". Directory listings are derived.
  /// A public key names itself in its path, as the listing shows it:
  /// "meta-data/public-keys/1=other/openssh-key" (served as public-keys/1/...).
  void set(const std::string& path, std::string body);
  void remove(const std::string& path);
  /// Loads every file under dir as a leaf (path relative to dir).
  void load_dir(const std::string& dir);
  void set_user_data(std::optional<std::string> user_data);
  void set_instance_id(const std::string& id);  // rewrites the identity document

  /// The next `times` requests for path (or "api/token") answer `status`.
  void fail_next(const std::string& path, int status, int times);
  /// Every token PUT answers this status (e.g. 403: IMDS disabled). 0 = normal.
  void set_token_status(int status);
  /// Invalidates all tokens issued so far: reads with them get 401.
  void expire_tokens();
  /// Reads without a valid token are served (IMDSv1 allowed) when true.
  void set_allow_v1(bool allow);

  /// Every response waits this long before it is sent (0: none), as a
  /// distant or loaded IMDS would; requests are served concurrently.
  void set_latency(int milliseconds);
  /// The most requests that were being served at the same moment.
  int max_in_flight() const;

  int request_count() const;
  int token_request_count() const;
  /// "PUT /latest/api/token", "GET /latest/meta-data/..." with status, in order.
  std::vector<std::string> request_log() const;
  /// Every token issued so far (so tests can grep logs for them).
  std::vector<std::string> issued_tokens() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace amiboot::testing
