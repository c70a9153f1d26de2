// SPDX-License-Identifier: Apache-2.0
#include "agent/imds_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "agent/core/strings.h"
#include "agent/http_connections.h"

namespace amiboot {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr const char* k_token_path = "api/token";
constexpr const char* k_user_data_path = "user-data";
constexpr const char* k_identity_path = "dynamic/instance-identity/document";
constexpr const char* k_hostname_path = "meta-data/local-hostname";
constexpr const char* k_public_keys_path = "meta-data/public-keys/";
constexpr const char* k_bdm_path = "meta-data/block-device-mapping/";

using Failure = HttpOutcome::Failure;

struct Response {
  Failure failure = Failure::None;
  bool done = false;  // a final answer: not to be retried
  long status = 0;
  std::string body;
  std::string detail;  // what failed on the wire
  bool too_large = false;
};

bool transient_status(long status) {
  return status == 429 || (status >= 500 && status <= 599);
}

// An answer over the cap is final; everything else on the wire (refused,
// reset, timed out, empty or garbled reply) is what a slow first-boot IMDS
// looks like and is retried.
bool is_transient(const Response& r) {
  return r.failure == Failure::None ? transient_status(r.status) : !r.too_large;
}

std::string describe(const Response& r) {
  return r.failure == Failure::None ? "HTTP " + std::to_string(r.status) : r.detail;
}

// A path from a listing goes into the request line: anything but unreserved
// characters and '/' is percent-encoded.
std::string request_target(const std::string& path) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out = "/latest/";
  for (char ch : path) {
    const auto u = static_cast<unsigned char>(ch);
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        std::string_view("-._~/=").find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      out += '%';
      out += k_hex[u >> 4];
      out += k_hex[u & 15];
    }
  }
  return out;
}

std::string attempts_text(int attempts) {
  return std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
}

// One request in flight or waiting for its next try (agent/imds_client.h:
// requests of a round go out together over a few connections).
struct Transfer {
  bool put = false;
  std::string path;
  std::size_t cap = 0;
  Response response;
  int attempts = 0;
  int retries = 0;  // index into the backoff schedule
  Clock::time_point not_before{};
  bool running = false;
  std::string last;              // why the previous try failed
  std::optional<Error> failure;  // retrying gave up
};

std::string seconds_text(milliseconds ms) {
  if (ms.count() % 1000 == 0) {
    return std::to_string(ms.count() / 1000) + " s";
  }
  return std::to_string(ms.count()) + " ms";
}

std::vector<std::string> listing_entries(const std::string& body) {
  std::vector<std::string> entries;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string::npos) {
      end = body.size();
    }
    std::string line(trim(std::string_view(body).substr(pos, end - pos)));
    if (!line.empty()) {
      entries.push_back(std::move(line));
    }
    pos = end + 1;
  }
  return entries;
}

}  // namespace

struct ImdsClient::Impl {
  explicit Impl(ImdsOptions o) : options(std::move(o)), backoff(options.retry) {
    // HTTP/1.1 keep-alive: connections stay open between rounds. A few at
    // once: enough for a round's requests to go out together, few enough
    // not to look like a flood to IMDS.
    if (auto endpoint = http_endpoint(options.base_url); endpoint) {
      http.emplace(std::move(*endpoint), 8);
    } else {
      load_error = endpoint.error().message;
    }
  }

  void log(const std::string& line) const {
    if (options.log) {
      options.log(line);
    }
  }

  std::string what(const Transfer& t) const {
    return std::string("IMDS ") + (t.put ? "PUT " : "GET ") + t.path;
  }

  void start(Transfer& t, std::size_t id, Clock::time_point deadline);
  void finish(Transfer& t, HttpOutcome outcome, Clock::time_point deadline);
  void run(std::vector<Transfer>& transfers, Clock::time_point deadline);
  Status fetch_token(Clock::time_point deadline);
  Result<std::optional<std::string>> answer(const Transfer& t, int attempts) const;
  std::vector<Result<std::optional<std::string>>> get_many(const std::vector<std::string>& paths,
                                                           Clock::time_point deadline);

  ImdsOptions options;
  Backoff backoff;
  std::optional<HttpConnections> http;  // none when the URL is unusable: load_error says why
  std::string load_error;
  std::string token;       // empty until the first PUT succeeds
  bool tokenless = false;  // IMDSv1 fallback, only when options.allow_imdsv1
  int requests = 0;
  std::vector<std::string> warnings;
};

void ImdsClient::Impl::start(Transfer& t, std::size_t id, Clock::time_point deadline) {
  ++requests;
  t.response = Response{};
  const auto remaining = duration_cast<milliseconds>(deadline - Clock::now());
  PlainHttpRequest request;
  request.target = request_target(t.path);
  request.max_body = t.cap;
  // One request: connect, send and answer, never past the whole fetch's deadline.
  request.deadline =
      Clock::now() + std::max(milliseconds(1), std::min(options.request_timeout, remaining));
  if (t.put) {
    request.method = "PUT";
    request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  } else {
    request.method = "GET";
    if (!tokenless && !token.empty()) {
      request.headers = {{"X-aws-ec2-metadata-token", token}};
    }
  }
  http->start(id, std::move(request));
  t.running = true;
}

// A try ended: keep its answer, or schedule the next try (connection errors,
// timeouts, 429 and 5xx) unless the next could not start before the deadline.
void ImdsClient::Impl::finish(Transfer& t, HttpOutcome outcome, Clock::time_point deadline) {
  t.running = false;
  ++t.attempts;
  Response& r = t.response;
  r.failure = outcome.failure;
  r.status = outcome.status;
  r.body = std::move(outcome.body);
  r.detail = std::move(outcome.detail);
  r.too_large = outcome.failure == Failure::TooLarge;
  if (!is_transient(r)) {
    r.done = true;
    return;
  }
  t.last = describe(r);
  const milliseconds wait = backoff.delay(t.retries++);
  // Never sleep past the deadline: if the next try could not start in time,
  // say so now rather than after a pointless wait.
  if (Clock::now() + wait >= deadline) {
    t.failure = error(what(t) + ": " + t.last + " after " + attempts_text(t.attempts) +
                      ", giving up at the " + std::to_string(options.retry.deadline.count()) +
                      " ms deadline");
    return;
  }
  // The first retry says how long the retrying may go on.
  const std::string bound =
      t.retries == 1 ? "; will try for up to " + seconds_text(options.retry.deadline) : "";
  log(what(t) + ": " + t.last + ", retrying in " + std::to_string(wait.count()) + " ms (attempt " +
      std::to_string(t.attempts + 1) + bound + ")");
  t.not_before = Clock::now() + wait;
}

// Runs every transfer to its answer or its failure, all at once.
void ImdsClient::Impl::run(std::vector<Transfer>& transfers, Clock::time_point deadline) {
  auto settled = [](const Transfer& t) { return t.response.done || t.failure.has_value(); };
  while (true) {
    // Start what is due; note when the next waiting retry is.
    const auto now = Clock::now();
    bool active = false;
    Clock::time_point wake = deadline;
    for (std::size_t i = 0; i < transfers.size(); ++i) {
      Transfer& t = transfers[i];
      if (settled(t)) {
        continue;
      }
      if (!t.running && now >= deadline) {
        t.failure =
            error(what(t) + ": " + (t.last.empty() ? std::string() : t.last + "; ") +
                  "no time left before the " + std::to_string(options.retry.deadline.count()) +
                  " ms deadline after " + attempts_text(t.attempts));
        continue;
      }
      if (!t.running && t.not_before <= now) {
        start(t, i, deadline);
      } else if (!t.running) {
        wake = std::min(wake, t.not_before);
      }
      active = active || !settled(t);
    }
    if (!active) {
      break;
    }
    const auto wait_ms = std::clamp<milliseconds>(duration_cast<milliseconds>(wake - Clock::now()),
                                                  milliseconds(0), milliseconds(1000));
    if (http->pending() == 0) {
      std::this_thread::sleep_for(wait_ms);
      continue;
    }
    for (auto& [i, outcome] : http->wait(wait_ms)) {
      finish(transfers[i], std::move(outcome), deadline);
    }
  }
}

Status ImdsClient::Impl::fetch_token(Clock::time_point deadline) {
  token.clear();
  std::vector<Transfer> one(1);
  Transfer& t = one.front();
  t.put = true;
  t.path = k_token_path;
  t.cap = options.max_response_bytes;
  run(one, deadline);
  if (t.failure) {
    return *t.failure;
  }
  const Response& r = t.response;
  const std::string what = this->what(t);
  if (r.too_large) {
    return error(what + ": response is larger than the " +
                 std::to_string(options.max_response_bytes) + "-byte cap");
  }
  if (r.failure != Failure::None) {
    return error(what + ": " + describe(r) + " after " + attempts_text(t.attempts));
  }
  if (r.status == 200) {
    std::string body(trim(r.body));
    if (body.empty()) {
      return error(what + ": HTTP 200 with an empty token");
    }
    // The token goes into a header line: a CR or LF in it would add headers
    // of the answer's choosing to every later request.
    if (!std::all_of(body.begin(), body.end(), [](char c) { return c > ' ' && c < 0x7f; })) {
      return error(what + ": the token is not printable ASCII without spaces; refused");
    }
    token = std::move(body);
    tokenless = false;
    return {};
  }
  if (r.status == 403) {
    // IMDS is turned off (or this client is blocked): no amount of retrying helps.
    return error(
        "IMDS refused a token (403): the instance metadata service is turned off or this client "
        "is not allowed");
  }
  if (options.allow_imdsv1) {
    log(what + ": " + describe(r) + ", reading without a token (IMDSv1 allowed by configuration)");
    tokenless = true;
    return {};
  }
  std::string hint;
  if (r.status >= 300 && r.status <= 399) {
    hint = " (redirects are not followed)";
  } else {
    hint = " (IMDSv2 token not available and IMDSv1 fallback is not allowed)";
  }
  return error(what + ": " + describe(r) + hint + " after " + attempts_text(t.attempts));
}

// What one read's last try says: its body, none (404) or an error.
Result<std::optional<std::string>> ImdsClient::Impl::answer(const Transfer& t, int attempts) const {
  const std::string what = this->what(t);
  const Response& r = t.response;
  if (t.failure) {
    return *t.failure;
  }
  if (r.too_large) {
    return error(what + ": response is larger than the " + std::to_string(t.cap) + "-byte cap");
  }
  if (r.failure != Failure::None) {
    return error(what + ": " + describe(r) + " after " + attempts_text(attempts));
  }
  if (r.status >= 200 && r.status <= 299) {
    return std::optional<std::string>(r.body);
  }
  if (r.status == 404) {
    return std::optional<std::string>();
  }
  if (r.status == 401 && tokenless) {
    return error(what + ": HTTP 401 without a token (this IMDS requires IMDSv2) after " +
                 attempts_text(attempts));
  }
  if (r.status == 401) {
    return error(what + ": HTTP 401 even with a fresh token after " + attempts_text(attempts));
  }
  std::string hint;
  if (r.status >= 300 && r.status <= 399) {
    hint = " (redirects are not followed)";
  }
  return error(what + ": " + describe(r) + hint + " after " + attempts_text(attempts));
}

// GETs of `paths` at once, results in the same order. A 401 (the token
// expired or IMDS restarted) gets one fresh token and one more round for
// the reads that had it; a second 401 is an error.
std::vector<Result<std::optional<std::string>>> ImdsClient::Impl::get_many(
    const std::vector<std::string>& paths, Clock::time_point deadline) {
  using Answer = Result<std::optional<std::string>>;
  std::vector<Answer> results(paths.size(), Answer(error("")));
  auto fail_all = [&](const Error& e) {
    for (auto& result : results) {
      result = e;
    }
    return results;
  };
  if (!http) {
    return fail_all(error("IMDS: " + load_error));
  }
  if (!tokenless && token.empty()) {
    if (Status s = fetch_token(deadline); !s) {
      return fail_all(s.error());
    }
  }
  auto make = [&](const std::string& path) {
    Transfer t;
    t.path = path;
    t.cap = path == k_user_data_path ? options.max_user_data_bytes : options.max_response_bytes;
    return t;
  };
  std::vector<Transfer> transfers;
  for (const std::string& path : paths) {
    transfers.push_back(make(path));
  }
  run(transfers, deadline);
  std::vector<std::size_t> rejected;
  for (std::size_t i = 0; i < transfers.size(); ++i) {
    const Transfer& t = transfers[i];
    if (!t.failure && t.response.failure == Failure::None && t.response.status == 401 &&
        !tokenless) {
      rejected.push_back(i);
    } else {
      results[i] = answer(t, t.attempts);
    }
  }
  if (rejected.empty()) {
    return results;
  }
  // Tokens expire (TTL) or die with a restarted IMDS; one fresh token is
  // worth a try, a second 401 means something else is wrong.
  log("IMDS token rejected (401), fetching a new one");
  if (Status s = fetch_token(deadline); !s) {
    for (std::size_t i : rejected) {
      results[i] =
          error(what(transfers[i]) + ": token rejected (401) and no new one: " + s.error().message);
    }
    return results;
  }
  std::vector<Transfer> again;
  for (std::size_t i : rejected) {
    again.push_back(make(paths[i]));
  }
  run(again, deadline);
  for (std::size_t k = 0; k < rejected.size(); ++k) {
    results[rejected[k]] = answer(again[k], transfers[rejected[k]].attempts + again[k].attempts);
  }
  return results;
}

ImdsClient::ImdsClient(ImdsOptions options) : m_impl(std::make_unique<Impl>(std::move(options))) {}

ImdsClient::~ImdsClient() = default;

Result<std::optional<std::string>> ImdsClient::get(const std::string& path) {
  auto results = m_impl->get_many({path}, Clock::now() + m_impl->options.retry.deadline);
  return std::move(results.front());
}

int ImdsClient::request_count() const {
  return m_impl->requests;
}

const std::vector<std::string>& ImdsClient::warnings() const {
  return m_impl->warnings;
}

// Three rounds, under one deadline for the whole fetch: the token; then the
// identity document, the hostname, the two listings and the user data at
// once; then every key and every mapping entry at once. A read that is
// optional (all but the identity document and the user data) and fails
// leaves its field empty with a warning rather than failing the fetch.
Result<SourceData> ImdsClient::fetch_all() {
  Impl& m = *m_impl;
  const Clock::time_point deadline = Clock::now() + m.options.retry.deadline;
  SourceData out;
  Metadata& md = out.metadata;
  auto optional = [&](Result<std::optional<std::string>>& r) -> std::optional<std::string> {
    if (!r) {
      m.warnings.push_back(r.error().message + "; going on without it");
      m.log(m.warnings.back());
      return std::nullopt;
    }
    return std::move(*r);
  };

  const std::vector<std::string> first = {k_identity_path, k_hostname_path, k_public_keys_path,
                                          k_bdm_path, k_user_data_path};
  auto round = m.get_many(first, deadline);
  auto& document = round[0];
  if (!document) {
    return document.error();
  }
  if (!*document) {
    return error(std::string("IMDS GET ") + k_identity_path +
                 ": HTTP 404; the identity document is required");
  }
  if (Status s = apply_identity_document(**document, md); !s) {
    return error(std::string("IMDS ") + s.error().message);
  }
  // User data is not optional: running without it would run the wrong
  // configuration, so a failed read fails the fetch (404 is "none").
  if (!round[4]) {
    return round[4].error();
  }
  out.user_data = std::move(*round[4]);
  auto hostname = optional(round[1]);
  md.local_hostname = hostname ? std::string(trim(*hostname)) : "";

  // Keys are listed "N=key-name"; the key itself is one level down. Fetching
  // N/openssh-key directly saves listing N/ for every key.
  std::vector<std::string> leaves;
  std::size_t key_count = 0;
  if (auto keys = optional(round[2])) {
    for (const std::string& entry : listing_entries(*keys)) {
      const std::string index = entry.substr(0, entry.find_first_of("=/"));
      if (!all_digits(index)) {
        m.log(std::string("IMDS GET ") + k_public_keys_path + ": ignoring entry \"" + entry + "\"");
        continue;
      }
      leaves.push_back(std::string(k_public_keys_path) + index + "/openssh-key");
    }
  }
  key_count = leaves.size();
  std::vector<std::string> device_names;
  if (auto devices = optional(round[3])) {
    for (const std::string& name : listing_entries(*devices)) {
      if (name.back() == '/') {
        continue;  // no sub-directories in a real mapping; do not crawl one
      }
      device_names.push_back(name);
      leaves.push_back(std::string(k_bdm_path) + name);
    }
  }
  if (!leaves.empty()) {
    auto answers = m.get_many(leaves, deadline);
    for (std::size_t i = 0; i < answers.size(); ++i) {
      auto body = optional(answers[i]);
      if (!body) {
        continue;
      }
      std::string value(trim(*body));
      if (i < key_count) {
        if (!value.empty()) {
          md.public_keys.push_back(std::move(value));
        }
      } else {
        md.block_device_mapping[device_names[i - key_count]] = std::move(value);
      }
    }
  }
  md.source = "imds";
  return out;
}

}  // namespace amiboot
