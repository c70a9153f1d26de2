// SPDX-License-Identifier: Apache-2.0
#include "tests/support/fake_imds.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace amiboot::testing {

namespace {

constexpr const char* k_identity_path = "dynamic/instance-identity/document";
constexpr const char* k_public_keys_dir = "meta-data/public-keys/";

nlohmann::json default_identity() {
  return {
      {"accountId", "123456789012"},
      {"architecture", "x86_64"},
      {"availabilityZone", "us-east-1a"},
      {"billingProducts", nullptr},
      {"devpayProductCodes", nullptr},
      {"marketplaceProductCodes", nullptr},
      {"imageId", "ami-0abcdef1234567890"},
      {"instanceId", "i-0123456789abcdef0"},
      {"instanceType", "t3.micro"},
      {"kernelId", nullptr},
      {"pendingTime", "2024-01-01T00:00:00Z"},
      {"privateIp", "10.0.0.12"},
      {"ramdiskId", nullptr},
      {"region", "us-east-1"},
      {"version", "2017-09-30"},
  };
}

// Picks a port the kernel considers free, so url() is known before start().
// Another process could take it in between; fine for tests.
int pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("FakeImds: socket() failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("FakeImds: could not find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string random_token() {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(k_alphabet) - 2);
  std::string token(56, 'A');
  for (char& c : token) {
    c = k_alphabet[pick(rng)];
  }
  return token;
}

bool valid_ttl(const std::string& value) {
  if (value.empty() || value.size() > 5 ||
      value.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const int ttl = std::stoi(value);
  return ttl >= 1 && ttl <= 21600;
}

}  // namespace

struct FakeImds::Impl {
  // Everything below the mutex is shared with the server's worker threads.
  mutable std::mutex mu;
  std::map<std::string, std::string> leaves;
  std::map<std::string, std::string> key_names;  // public key index -> name
  std::optional<std::string> user_data;
  std::map<std::string, std::pair<int, int>> failures;  // path -> (status, times left)
  int token_status = 0;
  bool allow_v1 = false;
  std::set<std::string> valid_tokens;
  std::vector<std::string> issued;
  std::vector<std::string> log;
  int requests = 0;
  int token_requests = 0;
  // Outside the mutex: a response's latency is slept without holding it.
  std::atomic<int> latency_ms{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};

  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  int port = 0;

  void set_leaf(const std::string& path, std::string body);
  std::optional<std::string> listing(const std::string& dir) const;
  void handle(const httplib::Request& req, httplib::Response& res);
  void handle_token(const httplib::Request& req, httplib::Response& res);
  void handle_read(const std::string& key, const httplib::Request& req, httplib::Response& res);
};

// "meta-data/public-keys/1=other/openssh-key" names the key as real IMDS's
// listing does ("1=other") and stores the leaf under "public-keys/1/".
void FakeImds::Impl::set_leaf(const std::string& path, std::string body) {
  std::string key = path;
  if (key.rfind(k_public_keys_dir, 0) == 0) {
    const std::size_t start = std::string(k_public_keys_dir).size();
    const std::size_t slash = key.find('/', start);
    const std::string component = key.substr(start, slash - start);
    const std::size_t eq = component.find('=');
    if (eq != std::string::npos) {
      const std::string index = component.substr(0, eq);
      key_names[index] = component.substr(eq + 1);
      key = std::string(k_public_keys_dir) + index +
            (slash == std::string::npos ? "" : key.substr(slash));
    }
  }
  leaves[key] = std::move(body);
}

// Children of dir, one a line, sub-directories with a trailing '/', no newline
// after the last: the shape of a real IMDS listing.
std::optional<std::string> FakeImds::Impl::listing(const std::string& dir) const {
  std::vector<std::string> children;
  std::set<std::string> seen;
  auto add = [&](const std::string& child) {
    if (seen.insert(child).second) {
      children.push_back(child);
    }
  };
  for (const auto& [path, body] : leaves) {
    if (path.size() <= dir.size() || path.compare(0, dir.size(), dir) != 0) {
      continue;
    }
    const std::string rest = path.substr(dir.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string::npos) {
      add(rest);
    } else if (dir == k_public_keys_dir) {
      const std::string index = rest.substr(0, slash);
      auto it = key_names.find(index);
      add(index + "=" + (it != key_names.end() ? it->second : "key-" + index));
    } else {
      add(rest.substr(0, slash + 1));
    }
  }
  if (dir.empty() && user_data) {
    add("user-data");
  }
  if (children.empty()) {
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = 0; i < children.size(); ++i) {
    out += (i == 0 ? "" : "\n") + children[i];
  }
  return out;
}

void FakeImds::Impl::handle(const httplib::Request& req, httplib::Response& res) {
  const std::string prefix = "/latest/";
  const std::string key = req.path.rfind(prefix, 0) == 0 ? req.path.substr(prefix.size()) : "";
  const int now_in_flight = ++in_flight;
  int seen = max_in_flight.load();
  while (now_in_flight > seen && !max_in_flight.compare_exchange_weak(seen, now_in_flight)) {
  }
  if (const int latency = latency_ms.load(); latency > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(latency));
  }
  struct Leave {
    std::atomic<int>& count;
    ~Leave() { --count; }
  } leave{in_flight};
  std::lock_guard<std::mutex> lock(mu);
  ++requests;
  const bool token_path = key == "api/token";
  if (token_path && req.method == "PUT") {
    ++token_requests;
  }
  if (auto it = failures.find(key); it != failures.end() && it->second.second > 0) {
    --it->second.second;
    res.status = it->second.first;
    if (res.status >= 300 && res.status <= 399) {
      res.set_header("Location", "/latest/redirected/" + key);
    }
    res.set_content("injected failure\n", "text/plain");
  } else if (req.path.rfind(prefix, 0) != 0) {
    res.status = 404;
  } else if (token_path) {
    handle_token(req, res);
  } else {
    handle_read(key, req, res);
  }
  log.push_back(req.method + " " + req.path + " " + std::to_string(res.status));
}

void FakeImds::Impl::handle_token(const httplib::Request& req, httplib::Response& res) {
  if (req.method != "PUT") {
    res.status = 405;
    return;
  }
  // Real IMDS refuses tokens to anything that looks forwarded (a proxy on
  // the instance would otherwise hand tokens to the network).
  if (req.has_header("X-Forwarded-For")) {
    res.status = 403;
    return;
  }
  if (token_status != 0) {
    res.status = token_status;
    return;
  }
  const std::string ttl = req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds");
  if (!valid_ttl(ttl)) {
    res.status = 400;
    return;
  }
  std::string token = random_token();
  valid_tokens.insert(token);
  issued.push_back(token);
  res.status = 200;
  res.set_header("X-aws-ec2-metadata-token-ttl-seconds", ttl);
  res.set_content(token, "text/plain");
}

void FakeImds::Impl::handle_read(const std::string& key, const httplib::Request& req,
                                 httplib::Response& res) {
  if (req.method != "GET" && req.method != "HEAD") {
    res.status = 405;
    return;
  }
  // A token that is present but unknown is refused even when IMDSv1 is on,
  // as real IMDS does.
  if (req.has_header("X-aws-ec2-metadata-token")) {
    if (valid_tokens.count(req.get_header_value("X-aws-ec2-metadata-token")) == 0) {
      res.status = 401;
      return;
    }
  } else if (!allow_v1) {
    res.status = 401;
    return;
  }
  if (key == "user-data") {
    if (user_data) {
      res.status = 200;
      res.set_content(*user_data, "application/octet-stream");
    } else {
      res.status = 404;
    }
    return;
  }
  if (auto it = leaves.find(key); it != leaves.end()) {
    res.status = 200;
    res.set_content(it->second, "text/plain");
    return;
  }
  // Real IMDS lists a directory with or without the trailing slash.
  const std::string dir = key.empty() || key.back() == '/' ? key : key + "/";
  if (auto list = listing(dir)) {
    res.status = 200;
    res.set_content(*list, "text/plain");
    return;
  }
  res.status = 404;
}

FakeImds::FakeImds(int port, bool start) : m_impl(std::make_unique<Impl>()) {
  m_impl->port = port;
  set(k_identity_path, default_identity().dump(2));
  set("meta-data/local-hostname", "ip-10-0-0-12.ec2.internal");
  set("meta-data/public-keys/0=test-key/openssh-key",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly000000000000000000000 test-key\n");
  set("meta-data/block-device-mapping/ami", "xvda");
  set("meta-data/block-device-mapping/root", "/dev/xvda");
  set("meta-data/instance-id", "i-0123456789abcdef0");
  if (start) {
    this->start();
  } else if (m_impl->port == 0) {
    m_impl->port = pick_free_port();
  }
}

FakeImds::~FakeImds() {
  stop();
}

void FakeImds::start() {
  if (m_impl->server) {
    return;
  }
  auto server = std::make_unique<httplib::Server>();
  Impl* impl = m_impl.get();
  auto handler = [impl](const httplib::Request& req, httplib::Response& res) {
    impl->handle(req, res);
  };
  const std::string any = R"(/.*)";
  server->Get(any, handler);
  server->Put(any, handler);
  server->Post(any, handler);
  server->Delete(any, handler);
  server->Patch(any, handler);
  server->Options(any, handler);
  // Real IMDS takes the token PUT with no body and no Content-Length (the
  // AWS docs' `curl -X PUT`); cpp-httplib would answer 400 before routing.
  // Such a request has no body to read, so it can be served here safely.
  server->set_pre_routing_handler([impl](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "PUT" || req.has_header("Content-Length") ||
        req.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    impl->handle(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Each open keep-alive connection holds a worker: room for a client's
  // concurrent connections (amiboot's IMDS client opens up to 8).
  server->new_task_queue = [] { return new httplib::ThreadPool(32); };
  // Keeps stop() quick when a client leaves a keep-alive connection open.
  server->set_keep_alive_timeout(1);
  // Headers and body go out in separate writes; with Nagle on, each reply
  // would wait for the client's delayed ACK (about 40 ms a request).
  server->set_tcp_nodelay(true);

  if (m_impl->port == 0) {
    m_impl->port = server->bind_to_any_port("127.0.0.1");
    if (m_impl->port <= 0) {
      throw std::runtime_error("FakeImds: could not bind 127.0.0.1");
    }
  } else if (!server->bind_to_port("127.0.0.1", m_impl->port)) {
    throw std::runtime_error("FakeImds: could not bind 127.0.0.1:" + std::to_string(m_impl->port));
  }
  httplib::Server* raw = server.get();
  m_impl->server = std::move(server);
  m_impl->thread = std::thread([raw] { raw->listen_after_bind(); });
  // The socket already accepts connections (they queue in the backlog), but
  // waiting for the loop makes stop() right after start() safe.
  while (!raw->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void FakeImds::stop() {
  if (!m_impl->server) {
    return;
  }
  m_impl->server->stop();
  if (m_impl->thread.joinable()) {
    m_impl->thread.join();
  }
  m_impl->server.reset();
}

int FakeImds::port() const {
  return m_impl->port;
}

std::string FakeImds::url() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

void FakeImds::set(const std::string& path, std::string body) {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  m_impl->set_leaf(path, std::move(body));
}

void FakeImds::remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  if (path == "user-data") {
    m_impl->user_data.reset();
    return;
  }
  // Removing a directory removes everything below it.
  const std::string dir = path.empty() || path.back() == '/' ? path : path + "/";
  for (auto it = m_impl->leaves.begin(); it != m_impl->leaves.end();) {
    if (it->first == path || it->first.rfind(dir, 0) == 0) {
      it = m_impl->leaves.erase(it);
    } else {
      ++it;
    }
  }
}

void FakeImds::load_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    const std::string rel = fs::relative(entry.path(), dir).generic_string();
    if (rel == "user-data") {
      set_user_data(body.str());
    } else {
      set(rel, body.str());
    }
  }
}

void FakeImds::set_user_data(std::optional<std::string> user_data) {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  m_impl->user_data = std::move(user_data);
}

void FakeImds::set_instance_id(const std::string& id) {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  nlohmann::json doc =
      nlohmann::json::parse(m_impl->leaves[k_identity_path], nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    doc = default_identity();
  }
  doc["instanceId"] = id;
  m_impl->leaves[k_identity_path] = doc.dump(2);
  m_impl->leaves["meta-data/instance-id"] = id;
}

void FakeImds::fail_next(const std::string& path, int status, int times) {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  m_impl->failures[path] = {status, times};
}

void FakeImds::set_token_status(int status) {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  m_impl->token_status = status;
}

void FakeImds::expire_tokens() {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  m_impl->valid_tokens.clear();
}

void FakeImds::set_allow_v1(bool allow) {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  m_impl->allow_v1 = allow;
}

void FakeImds::set_latency(int milliseconds) {
  m_impl->latency_ms = milliseconds;
}

int FakeImds::max_in_flight() const {
  return m_impl->max_in_flight.load();
}

int FakeImds::request_count() const {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  return m_impl->requests;
}

int FakeImds::token_request_count() const {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  return m_impl->token_requests;
}

std::vector<std::string> FakeImds::request_log() const {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  return m_impl->log;
}

std::vector<std::string> FakeImds::issued_tokens() const {
  std::lock_guard<std::mutex> lock(m_impl->mu);
  return m_impl->issued;
}

}  // namespace amiboot::testing
