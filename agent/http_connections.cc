// SPDX-License-Identifier: Apache-2.0
#include "agent/http_connections.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using Done = std::vector<std::pair<std::size_t, HttpOutcome>>;

std::string errno_text(int e) {
  return std::strerror(e);
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

Result<HttpEndpoint> http_endpoint(const std::string& url) {
  const std::string bad = "the IMDS endpoint \"" + url + "\" is not an http://host[:port] URL";
  if (lowercase(url.substr(0, 7)) != "http://") {
    return error(bad);
  }
  const std::string rest = url.substr(7);
  const std::size_t slash = std::min(rest.find('/'), rest.size());
  const std::string authority = rest.substr(0, slash);
  std::string path = rest.substr(slash);
  if (authority.empty() || authority.find_first_of("@?# \t\r\n") != std::string::npos ||
      path.find_first_of("?# \t\r\n") != std::string::npos) {
    return error(bad);
  }
  std::string host;
  std::string port = "80";
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string::npos) {
      return error(bad);
    }
    host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return error(bad);
      }
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty() || !all_digits(port) || port.size() > 5 || std::stoi(port) < 1 ||
      std::stoi(port) > 65535) {
    return error(bad);
  }
  HttpEndpoint out;
  out.host = authority;
  while (!path.empty() && path.back() == '/') {
    path.pop_back();
  }
  out.prefix = path;
  const auto port_number = static_cast<std::uint16_t>(std::stoi(port));
  // Address literals (what IMDS is) without the resolver: getaddrinfo
  // would load the NSS modules for nothing.
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port_number);
    out.address_size = sizeof(sockaddr_in);
    return out;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port_number);
    out.address_size = sizeof(sockaddr_in6);
    return out;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return error("the IMDS endpoint's host \"" + host +
                 "\" could not be resolved: " + gai_strerror(rc));
  }
  std::memcpy(&out.address, found->ai_addr, found->ai_addrlen);
  out.address_size = found->ai_addrlen;
  freeaddrinfo(found);
  return out;
}

HttpConnections::HttpConnections(HttpEndpoint endpoint, std::size_t max_connections)
    : m_endpoint(std::move(endpoint)), m_max(std::max<std::size_t>(1, max_connections)) {}

HttpConnections::~HttpConnections() {
  for (Connection& c : m_connections) {
    close(c);
  }
}

std::size_t HttpConnections::pending() const {
  return m_queue.size() +
         static_cast<std::size_t>(std::count_if(m_connections.begin(), m_connections.end(),
                                                [](const Connection& c) { return c.busy; }));
}

void HttpConnections::start(std::size_t id, PlainHttpRequest request) {
  m_queue.push_back(Job{id, std::move(request), false});
}

void HttpConnections::close(Connection& c) {
  if (c.fd >= 0) {
    ::close(c.fd);
  }
  c.fd = -1;
  c.busy = false;
  c.connecting = false;
  c.reused = false;
}

void HttpConnections::end(Connection& c, HttpOutcome outcome, Done& done) {
  done.emplace_back(c.job.id, std::move(outcome));
  c.busy = false;
}

// A reused keep-alive connection that the server had closed (its idle
// timeout, or its limit of requests a connection) fails before any answer:
// the request goes again, once, on a new connection, as browsers and
// libcurl do. Anything else is the request's failure.
void HttpConnections::fail_or_resend(Connection& c, HttpOutcome::Failure failure,
                                     std::string detail, Done& done) {
  if (c.reused && !c.job.resent && !c.parser.started()) {
    c.job.resent = true;
    m_queue.push_front(std::move(c.job));
    close(c);
    return;
  }
  HttpOutcome outcome;
  outcome.failure = failure;
  outcome.detail = std::move(detail);
  end(c, std::move(outcome), done);
  close(c);
}

void HttpConnections::assign(Done& done) {
  while (!m_queue.empty()) {
    auto idle = std::find_if(m_connections.begin(), m_connections.end(),
                             [](const Connection& c) { return c.fd >= 0 && !c.busy; });
    Connection* c = idle == m_connections.end() ? nullptr : &*idle;
    if (c == nullptr) {
      const auto open =
          static_cast<std::size_t>(std::count_if(m_connections.begin(), m_connections.end(),
                                                 [](const Connection& k) { return k.fd >= 0; }));
      if (open >= m_max) {
        return;
      }
      Job job = std::move(m_queue.front());
      m_queue.pop_front();
      const int fd =
          ::socket(m_endpoint.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        done.emplace_back(job.id,
                          HttpOutcome{HttpOutcome::Failure::Connect,
                                      0,
                                      {},
                                      "could not make a socket (" + errno_text(errno) + ")"});
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&m_endpoint.address),
                               m_endpoint.address_size);
      if (rc != 0 && errno != EINPROGRESS) {
        const int e = errno;
        ::close(fd);
        done.emplace_back(
            job.id,
            HttpOutcome{
                HttpOutcome::Failure::Connect, 0, {}, "could not connect (" + errno_text(e) + ")"});
        continue;
      }
      auto slot = std::find_if(m_connections.begin(), m_connections.end(),
                               [](const Connection& k) { return k.fd < 0; });
      if (slot == m_connections.end()) {
        m_connections.emplace_back();
        slot = m_connections.end() - 1;
      }
      c = &*slot;
      c->fd = fd;
      c->connecting = rc != 0;
      c->reused = false;
      m_queue.push_front(std::move(job));
    }
    c->job = std::move(m_queue.front());
    m_queue.pop_front();
    c->busy = true;
    c->sent = 0;
    HttpResponseLimits limits;
    limits.max_body_bytes = c->job.request.max_body;
    c->parser = HttpResponseParser(limits, c->job.request.method == "HEAD");
    const PlainHttpRequest& r = c->job.request;
    std::string& out = c->out;
    out = r.method + " " + m_endpoint.prefix + r.target + " HTTP/1.1\r\nHost: " + m_endpoint.host +
          "\r\n";
    bool refused = has_line_break(r.method) || has_line_break(r.target);
    for (const auto& [name, value] : r.headers) {
      refused = refused || has_line_break(name) || has_line_break(value);
      out += name + ": " + value + "\r\n";
    }
    if (r.method == "PUT" || r.method == "POST") {
      out += "Content-Length: 0\r\n";  // servers answer 400 to a PUT without one
    }
    out += "\r\n";
    if (refused) {
      // A line break would add header lines of someone else's choosing.
      out.clear();
      end(*c,
          {HttpOutcome::Failure::Malformed,
           0,
           {},
           "a request line or header holds a line break; not sent"},
          done);
      continue;
    }
    if (!c->connecting) {
      on_writable(*c, done);
    }
  }
}

void HttpConnections::on_writable(Connection& c, Done& done) {
  while (c.sent < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return;
    }
    fail_or_resend(c, HttpOutcome::Failure::Transport,
                   "sending the request failed (" + errno_text(errno) + ")", done);
    return;
  }
}

void HttpConnections::on_readable(Connection& c, Done& done) {
  char buffer[16 * 1024];
  while (c.busy) {
    const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    HttpResponseParser::State state;
    if (n > 0) {
      state = c.parser.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    } else if (n == 0) {
      if (!c.parser.started()) {
        fail_or_resend(c, HttpOutcome::Failure::Transport,
                       "the server closed the connection without an answer", done);
        return;
      }
      state = c.parser.finish();
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return;
    } else {
      fail_or_resend(c, HttpOutcome::Failure::Transport,
                     "receiving the answer failed (" + errno_text(errno) + ")", done);
      return;
    }
    if (state == HttpResponseParser::State::Incomplete) {
      continue;
    }
    HttpOutcome outcome;
    if (state == HttpResponseParser::State::Complete) {
      outcome.status = c.parser.status();
      outcome.body = c.parser.body();
    } else if (state == HttpResponseParser::State::TooLarge) {
      outcome.failure = HttpOutcome::Failure::TooLarge;
      outcome.detail = c.parser.error();
    } else {
      outcome.failure = n == 0 ? HttpOutcome::Failure::Transport : HttpOutcome::Failure::Malformed;
      outcome.detail = (n == 0 ? "" : "malformed answer: ") + c.parser.error();
    }
    const bool keep =
        state == HttpResponseParser::State::Complete && c.parser.keep_alive() && n > 0;
    end(c, std::move(outcome), done);
    if (keep) {
      c.reused = true;
    } else {
      close(c);
    }
  }
}

std::vector<std::pair<std::size_t, HttpOutcome>> HttpConnections::wait(milliseconds wait) {
  Done done;
  assign(done);
  auto now = Clock::now();
  Clock::time_point until = now + wait;
  for (Connection& c : m_connections) {
    if (!c.busy) {
      continue;
    }
    if (now >= c.job.request.deadline) {
      end(c, {HttpOutcome::Failure::Timeout, 0, {}, "Timeout: no complete answer in time"}, done);
      close(c);
    } else {
      until = std::min(until, c.job.request.deadline);
    }
  }
  std::vector<pollfd> fds;
  std::vector<Connection*> owners;
  for (Connection& c : m_connections) {
    if (c.fd < 0) {
      continue;
    }
    // An idle connection is watched too: readable means the server closed it.
    const short events = c.busy && (c.connecting || c.sent < c.out.size()) ? POLLOUT : POLLIN;
    fds.push_back(pollfd{c.fd, events, 0});
    owners.push_back(&c);
  }
  const long timeout =
      done.empty() ? std::max<long>(
                         0, static_cast<long>(
                                duration_cast<milliseconds>(until - now + milliseconds(1)).count()))
                   : 0;
  if (fds.empty()) {
    return done;
  }
  if (::poll(fds.data(), fds.size(), static_cast<int>(timeout)) <= 0) {
    return done;
  }
  for (std::size_t i = 0; i < fds.size(); ++i) {
    Connection& c = *owners[i];
    const short revents = fds[i].revents;
    if (revents == 0 || c.fd != fds[i].fd) {
      continue;
    }
    if (!c.busy) {
      close(c);
      continue;
    }
    if (c.connecting) {
      int e = 0;
      socklen_t size = sizeof e;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &e, &size);
      if (e != 0) {
        end(c, {HttpOutcome::Failure::Connect, 0, {}, "could not connect (" + errno_text(e) + ")"},
            done);
        close(c);
        continue;
      }
      c.connecting = false;
    }
    if (c.sent < c.out.size()) {
      on_writable(c, done);
    } else if (revents & (POLLIN | POLLHUP | POLLERR)) {
      on_readable(c, done);
    }
  }
  assign(done);
  return done;
}

}  // namespace amiboot
