// SPDX-License-Identifier: Apache-2.0
// Plain HTTP/1.1 to one host over a few keep-alive connections, for IMDS
// (agent/imds_client.h): requests go out at once, one per connection, and
// one poll(2) waits for all of them. Loading libcurl for these requests cost
// a first boot about 5 ms of CPU and 8 MiB of memory (tests/bench); IMDS is
// plain HTTP on a link-local address, so this small client does without it.
// libcurl stays for everything else (https, redirects, proxies: agent/http.h).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "agent/core/http_response.h"
#include "agent/core/result.h"

namespace amiboot {

/// Where "http://host[:port][/prefix]" points: an address literal (IPv4 or
/// bracketed IPv6) or a name, resolved once.
struct HttpEndpoint {
  sockaddr_storage address{};
  socklen_t address_size = 0;
  std::string host;    // for the Host header: as written in the URL, port included
  std::string prefix;  // path before each request's target, without a trailing '/'
};

/// Parses and resolves an http:// URL; anything else is an error naming it.
Result<HttpEndpoint> http_endpoint(const std::string& url);

struct PlainHttpRequest {
  std::string method;  // GET or PUT (with an empty body)
  std::string target;  // path after the endpoint's prefix, starting with '/'
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t max_body = 1 << 20;
  std::chrono::steady_clock::time_point deadline;  // connect, send and answer
};

struct HttpOutcome {
  enum class Failure { None, Connect, Timeout, Transport, Malformed, TooLarge };
  Failure failure = Failure::None;
  int status = 0;
  std::string body;
  std::string detail;  // what failed, for people; never a header value
};

class HttpConnections {
 public:
  HttpConnections(HttpEndpoint endpoint, std::size_t max_connections);
  ~HttpConnections();
  HttpConnections(const HttpConnections&) = delete;
  HttpConnections& operator=(const HttpConnections&) = delete;

  /// Queues a request; its outcome comes back from wait() with `id`.
  void start(std::size_t id, PlainHttpRequest request);
  /// Moves the requests on for up to `wait` and returns those that ended.
  std::vector<std::pair<std::size_t, HttpOutcome>> wait(std::chrono::milliseconds wait);
  /// Requests queued or in flight.
  std::size_t pending() const;

 private:
  struct Job {
    std::size_t id = 0;
    PlainHttpRequest request;
    bool resent = false;  // once, when a reused connection turned out closed
  };
  struct Connection {
    int fd = -1;
    bool connecting = false;
    bool reused = false;  // has answered a request before
    bool busy = false;
    Job job;
    std::string out;  // the request, sent from `sent` on
    std::size_t sent = 0;
    HttpResponseParser parser;
  };

  void assign(std::vector<std::pair<std::size_t, HttpOutcome>>& done);
  void close(Connection& c);
  void end(Connection& c, HttpOutcome outcome,
           std::vector<std::pair<std::size_t, HttpOutcome>>& done);
  void fail_or_resend(Connection& c, HttpOutcome::Failure failure, std::string detail,
                      std::vector<std::pair<std::size_t, HttpOutcome>>& done);
  void on_writable(Connection& c, std::vector<std::pair<std::size_t, HttpOutcome>>& done);
  void on_readable(Connection& c, std::vector<std::pair<std::size_t, HttpOutcome>>& done);

  HttpEndpoint m_endpoint;
  std::size_t m_max;
  std::deque<Job> m_queue;
  std::vector<Connection> m_connections;
};

}  // namespace amiboot
