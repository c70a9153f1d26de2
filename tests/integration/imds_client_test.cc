// SPDX-License-Identifier: Apache-2.0
// The real ImdsClient against the fake IMDS over loopback HTTP.
#include "agent/imds_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "tests/support/fake_imds.h"

namespace amiboot {
namespace {

using amiboot::testing::FakeImds;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

using Clock = std::chrono::steady_clock;

constexpr const char* k_default_key =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly000000000000000000000 test-key";

// Small delays keep the retry tests fast; the deadline is generous so that a
// slow CI machine does not turn a retry into a failure.
ImdsOptions fast_options(const FakeImds& imds, std::vector<std::string>* log_lines = nullptr) {
  ImdsOptions o;
  o.base_url = imds.url();
  o.retry.initial = milliseconds{10};
  o.retry.cap = milliseconds{50};
  o.retry.deadline = seconds{10};
  o.request_timeout = milliseconds{2000};
  if (log_lines != nullptr) {
    o.log = [log_lines](const std::string& line) { log_lines->push_back(line); };
  }
  return o;
}

int count_prefix(const std::vector<std::string>& log, const std::string& prefix) {
  return static_cast<int>(std::count_if(
      log.begin(), log.end(), [&](const std::string& line) { return line.rfind(prefix, 0) == 0; }));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Sets proxy variables for one scope and puts the old values back.
class ScopedEnv {
 public:
  void set(const std::string& name, const std::optional<std::string>& value) {
    if (m_saved.count(name) == 0) {
      const char* old = std::getenv(name.c_str());
      m_saved[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    apply(name, value);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : m_saved) {
      apply(name, value);
    }
  }

 private:
  static void apply(const std::string& name, const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
  std::map<std::string, std::optional<std::string>> m_saved;
};

TEST(ImdsClient, FetchAllUsesOneTokenAndOnlyTheNeededPaths) {
  FakeImds imds;
  ImdsClient client(fast_options(imds));

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;

  const Metadata& md = data->metadata;
  EXPECT_EQ(md.instance_id, "i-0123456789abcdef0");
  EXPECT_EQ(md.region, "us-east-1");
  EXPECT_EQ(md.availability_zone, "us-east-1a");
  EXPECT_EQ(md.instance_type, "t3.micro");
  EXPECT_EQ(md.image_id, "ami-0abcdef1234567890");
  EXPECT_EQ(md.private_ip, "10.0.0.12");
  EXPECT_EQ(md.local_hostname, "ip-10-0-0-12.ec2.internal");
  EXPECT_EQ(md.public_keys, std::vector<std::string>{k_default_key});
  EXPECT_EQ(md.block_device_mapping,
            (std::map<std::string, std::string>{{"ami", "xvda"}, {"root", "/dev/xvda"}}));
  EXPECT_EQ(md.source, "imds");
  EXPECT_FALSE(data->user_data.has_value());

  EXPECT_EQ(imds.token_request_count(), 1);
  EXPECT_EQ(imds.issued_tokens().size(), 1u);
  // Reads without a valid token get 401 from the fake (IMDSv1 is off), so a
  // 200 on every read proves each one carried the token; the exact lists
  // prove there is no crawling. Within a round the requests are concurrent,
  // so the server sees them in any order: each round is compared as a set.
  const auto log = imds.request_log();
  ASSERT_EQ(log.size(), 9u) << ::testing::PrintToString(log);
  EXPECT_EQ(log[0], "PUT /latest/api/token 200");
  EXPECT_THAT(std::vector<std::string>(log.begin() + 1, log.begin() + 6),
              ::testing::UnorderedElementsAre("GET /latest/dynamic/instance-identity/document 200",
                                              "GET /latest/meta-data/local-hostname 200",
                                              "GET /latest/meta-data/public-keys/ 200",
                                              "GET /latest/meta-data/block-device-mapping/ 200",
                                              "GET /latest/user-data 404"));
  EXPECT_THAT(
      std::vector<std::string>(log.begin() + 6, log.end()),
      ::testing::UnorderedElementsAre("GET /latest/meta-data/public-keys/0/openssh-key 200",
                                      "GET /latest/meta-data/block-device-mapping/ami 200",
                                      "GET /latest/meta-data/block-device-mapping/root 200"));
  EXPECT_LE(client.request_count(), 10);
  EXPECT_EQ(client.request_count(), imds.request_count());
}

TEST(ImdsClient, ExpiredTokenIsReplacedOnceAndTheRunCompletes) {
  FakeImds imds;
  std::vector<std::string> lines;
  ImdsClient client(fast_options(imds, &lines));

  auto hostname = client.get("meta-data/local-hostname");
  ASSERT_TRUE(hostname.ok()) << hostname.error().message;
  ASSERT_EQ(imds.token_request_count(), 1);

  imds.expire_tokens();
  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->metadata.instance_id, "i-0123456789abcdef0");

  EXPECT_EQ(imds.token_request_count(), 2);
  // The five reads of the second round went out together with the old
  // token: each got one 401, and one new token served all five again.
  const auto log = imds.request_log();
  EXPECT_EQ(std::count_if(log.begin(), log.end(),
                          [](const std::string& l) { return l.ends_with(" 401"); }),
            5);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "IMDS token rejected (401), fetching a new one"),
            1);
  EXPECT_THAT(lines, ::testing::Contains("IMDS token rejected (401), fetching a new one"));
  EXPECT_EQ(client.request_count(), imds.request_count());
}

// Three round trips however many keys and volumes: the token, then every
// independent read at once, then every leaf at once. With each response
// delayed, the requests of a round are all in flight together (the fake
// counts them), and each round is complete before the next starts.
TEST(ImdsClient, MetadataComesInThreeRounds) {
  FakeImds imds;
  imds.set("meta-data/public-keys/1=second/openssh-key", "ssh-ed25519 AAAASECOND second\n");
  for (const char* name : {"ebs1", "ebs2", "ephemeral0", "ephemeral1"}) {
    imds.set(std::string("meta-data/block-device-mapping/") + name, std::string("sd") + name[3]);
  }
  imds.set_latency(30);
  ImdsClient client(fast_options(imds));

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->metadata.public_keys,
            (std::vector<std::string>{k_default_key, "ssh-ed25519 AAAASECOND second"}));
  EXPECT_EQ(data->metadata.block_device_mapping.size(), 6u);

  const auto log = imds.request_log();
  ASSERT_EQ(log.size(), 1u + 5u + 8u) << ::testing::PrintToString(log);
  EXPECT_EQ(log[0], "PUT /latest/api/token 200");
  for (std::size_t i = 1; i < 6; ++i) {
    EXPECT_THAT(log[i],
                ::testing::Not(AnyOf(HasSubstr("openssh-key"), HasSubstr("block-device-mapping/e"),
                                     HasSubstr("block-device-mapping/r"),
                                     HasSubstr("block-device-mapping/a"))))
        << "a leaf before its listing's round ended: " << ::testing::PrintToString(log);
  }
  for (std::size_t i = 6; i < log.size(); ++i) {
    EXPECT_THAT(log[i], AnyOf(HasSubstr("openssh-key"), HasSubstr("block-device-mapping/")));
    EXPECT_THAT(log[i], ::testing::Not(::testing::EndsWith("block-device-mapping/ 200")));
  }
  EXPECT_EQ(imds.max_in_flight(), 8);  // the third round: 2 keys and 6 entries at once
  EXPECT_EQ(client.request_count(), 14);
}

// One deadline for the whole fetch (issue 18): reads that keep failing in
// the same round share it instead of each having its own.
TEST(ImdsClient, OneDeadlineForTheWholeFetch) {
  FakeImds imds;
  for (const char* path :
       {"meta-data/local-hostname", "meta-data/public-keys/", "meta-data/block-device-mapping/"}) {
    imds.fail_next(path, 503, 1000000);
  }
  std::vector<std::string> lines;
  ImdsOptions options = fast_options(imds, &lines);
  options.retry.deadline = seconds{2};
  ImdsClient client(options);

  const auto start = Clock::now();
  auto data = client.fetch_all();
  const double elapsed = seconds_since(start);
  // Three reads of 2 s each, one after another, would take 6 s.
  EXPECT_LT(elapsed, 4.5);
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->metadata.instance_id, "i-0123456789abcdef0");
  EXPECT_EQ(client.warnings().size(), 3u) << ::testing::PrintToString(client.warnings());
}

// An optional read that fails keeps what the others fetched, with a warning
// naming it; user data is not optional.
TEST(ImdsClient, AFailedOptionalReadKeepsTheRest) {
  FakeImds imds;
  imds.fail_next("meta-data/public-keys/", 400, 1);
  imds.fail_next("meta-data/block-device-mapping/root", 400, 1);
  std::vector<std::string> lines;
  ImdsClient client(fast_options(imds, &lines));

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_TRUE(data->metadata.public_keys.empty());
  EXPECT_EQ(data->metadata.block_device_mapping,
            (std::map<std::string, std::string>{{"ami", "xvda"}}));
  EXPECT_EQ(data->metadata.local_hostname, "ip-10-0-0-12.ec2.internal");
  ASSERT_EQ(client.warnings().size(), 2u);
  EXPECT_THAT(client.warnings()[0], AllOf(HasSubstr("meta-data/public-keys/"),
                                          HasSubstr("HTTP 400"), HasSubstr("going on without it")));
  EXPECT_THAT(client.warnings()[1], HasSubstr("meta-data/block-device-mapping/root"));

  FakeImds broken;
  broken.set_user_data("#cloud-config\n");
  broken.fail_next("user-data", 400, 1);
  ImdsClient second(fast_options(broken));
  auto failed = second.fetch_all();
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().message, AllOf(HasSubstr("user-data"), HasSubstr("HTTP 400")));
}

TEST(ImdsClient, TokenRefusedWith403StopsAtOnce) {
  FakeImds imds;
  imds.set_token_status(403);
  ImdsOptions options = fast_options(imds);
  options.retry.deadline = seconds{30};  // a retry loop would show as a slow test
  ImdsClient client(options);

  const auto start = Clock::now();
  auto data = client.fetch_all();
  ASSERT_FALSE(data.ok());
  EXPECT_THAT(data.error().message, AllOf(HasSubstr("403"), HasSubstr("turned off")));
  EXPECT_EQ(imds.request_count(), 1);
  EXPECT_EQ(client.request_count(), 1);
  EXPECT_LT(seconds_since(start), 5.0);  // no backoff waits; the count above is the proof
}

TEST(ImdsClient, WaitsForAnEndpointThatRefusesConnectionsAtFirst) {
  FakeImds imds(0, /*start=*/false);
  std::vector<std::string> lines;
  ImdsOptions options = fast_options(imds, &lines);
  options.retry.initial = milliseconds{100};
  options.retry.cap = milliseconds{500};
  options.retry.deadline = seconds{20};
  ImdsClient client(options);

  const auto start = Clock::now();
  std::thread starter([&imds] {
    std::this_thread::sleep_for(seconds{3});
    imds.start();
  });
  auto data = client.fetch_all();
  const double elapsed = seconds_since(start);
  starter.join();

  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->metadata.instance_id, "i-0123456789abcdef0");
  EXPECT_GE(elapsed, 3.0);
  EXPECT_LT(elapsed, 10.0);
  ASSERT_FALSE(lines.empty());
  EXPECT_THAT(lines.front(), AllOf(HasSubstr("IMDS PUT api/token"), HasSubstr("retrying in")));
  // Refused connections never reached the server, yet the client counted them.
  EXPECT_GT(client.request_count(), imds.request_count());
}

TEST(ImdsClient, Retries503ThenSucceeds) {
  FakeImds imds;
  imds.fail_next("meta-data/local-hostname", 503, 3);
  std::vector<std::string> lines;
  ImdsClient client(fast_options(imds, &lines));

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->metadata.local_hostname, "ip-10-0-0-12.ec2.internal");

  const auto log = imds.request_log();
  EXPECT_EQ(count_prefix(log, "GET /latest/meta-data/local-hostname 503"), 3);
  EXPECT_EQ(count_prefix(log, "GET /latest/meta-data/local-hostname "), 4);
  EXPECT_EQ(count_prefix(lines, "IMDS GET meta-data/local-hostname: HTTP 503, retrying in "), 3);
  EXPECT_THAT(lines.back(), HasSubstr("(attempt 4)"));
  // The first retry says how long retrying may go on: the whole fetch's deadline.
  EXPECT_THAT(lines.front(), HasSubstr("(attempt 2; will try for up to 10 s)"));
}

TEST(ImdsClient, RetriesThrottlingAndServerErrorsOnTheToken) {
  FakeImds imds;
  imds.fail_next("api/token", 429, 2);
  imds.fail_next("meta-data/public-keys/", 500, 1);
  ImdsClient client(fast_options(imds));

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->metadata.public_keys, std::vector<std::string>{k_default_key});
  EXPECT_EQ(imds.token_request_count(), 3);
  EXPECT_EQ(imds.issued_tokens().size(), 1u);
}

TEST(ImdsClient, MissingUserDataIsNoneNotAnError) {
  FakeImds imds;
  imds.set_user_data(std::nullopt);
  ImdsClient client(fast_options(imds));

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->user_data, std::nullopt);
}

TEST(ImdsClient, UserDataIsReturnedByteExact) {
  // A gzip header, a NUL, CR LF and every byte value: nothing may be decoded,
  // trimmed or cut at a NUL on the way.
  std::string user_data("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
  for (int i = 0; i < 256; ++i) {
    user_data.push_back(static_cast<char>(i));
  }
  user_data += std::string("\r\n\0trailing\n\n", 13);

  FakeImds imds;
  imds.set_user_data(user_data);
  ImdsClient client(fast_options(imds));

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  ASSERT_TRUE(data->user_data.has_value());
  EXPECT_EQ(data->user_data->size(), user_data.size());
  EXPECT_EQ(*data->user_data, user_data);
}

TEST(ImdsClient, MissingOptionalLeavesAreEmpty) {
  FakeImds imds;
  imds.remove("meta-data/local-hostname");
  imds.remove("meta-data/public-keys/");
  imds.remove("meta-data/block-device-mapping/");
  ImdsClient client(fast_options(imds));

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->metadata.instance_id, "i-0123456789abcdef0");
  EXPECT_EQ(data->metadata.local_hostname, "");
  EXPECT_TRUE(data->metadata.public_keys.empty());
  EXPECT_TRUE(data->metadata.block_device_mapping.empty());
}

TEST(ImdsClient, SeveralKeysAndVolumesKeepTheirOrder) {
  FakeImds imds;
  imds.set("meta-data/public-keys/1=second/openssh-key", "ssh-ed25519 AAAASECOND second\n");
  imds.set("meta-data/block-device-mapping/ebs1", "sdf");
  ImdsClient client(fast_options(imds));

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->metadata.public_keys,
            (std::vector<std::string>{k_default_key, "ssh-ed25519 AAAASECOND second"}));
  EXPECT_EQ(data->metadata.block_device_mapping.at("ebs1"), "sdf");
}

TEST(ImdsClient, MissingIdentityDocumentIsAnError) {
  FakeImds imds;
  imds.remove("dynamic/instance-identity/document");
  ImdsClient client(fast_options(imds));

  auto data = client.fetch_all();
  ASSERT_FALSE(data.ok());
  EXPECT_THAT(data.error().message, HasSubstr("dynamic/instance-identity/document"));
  EXPECT_THAT(data.error().message, HasSubstr("404"));
}

TEST(ImdsClient, BrokenIdentityDocumentIsAnError) {
  FakeImds imds;
  imds.set("dynamic/instance-identity/document", "{\"instanceId\": ");
  ImdsClient client(fast_options(imds));

  auto data = client.fetch_all();
  ASSERT_FALSE(data.ok());
  EXPECT_THAT(data.error().message, AllOf(HasSubstr("identity document"), HasSubstr("JSON")));
}

TEST(ImdsClient, ProxyEnvironmentIsIgnored) {
  FakeImds imds;
  ScopedEnv env;
  for (const char* name :
       {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) {
    env.set(name, "http://127.0.0.1:1");  // nothing listens there
  }
  env.set("no_proxy", std::nullopt);
  env.set("NO_PROXY", std::nullopt);
  ImdsOptions options = fast_options(imds);
  options.retry.deadline = seconds{2};
  ImdsClient client(options);

  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->metadata.instance_id, "i-0123456789abcdef0");
  EXPECT_EQ(client.request_count(), imds.request_count());
}

TEST(ImdsClient, TokenNeverAppearsInLogsOrErrors) {
  FakeImds imds;
  std::vector<std::string> texts;
  ImdsClient client(fast_options(imds, &texts));

  imds.fail_next("meta-data/local-hostname", 503, 2);
  ASSERT_TRUE(client.get("meta-data/local-hostname").ok());
  imds.expire_tokens();
  imds.fail_next("meta-data/public-keys/", 503, 2);
  auto data = client.fetch_all();
  ASSERT_TRUE(data.ok()) << data.error().message;

  // Failures too: a permanent one, a deadline, a redirect.
  imds.fail_next("meta-data/local-hostname", 400, 1);
  auto bad = client.get("meta-data/local-hostname");
  ASSERT_FALSE(bad.ok());
  texts.push_back(bad.error().message);
  imds.fail_next("meta-data/mac", 301, 1);
  auto moved = client.get("meta-data/mac");
  ASSERT_FALSE(moved.ok());
  texts.push_back(moved.error().message);
  imds.expire_tokens();
  imds.fail_next("api/token", 400, 1);
  auto no_token = client.get("meta-data/local-hostname");
  ASSERT_FALSE(no_token.ok());
  texts.push_back(no_token.error().message);

  const auto tokens = imds.issued_tokens();
  ASSERT_GE(tokens.size(), 2u);
  EXPECT_THAT(texts, ::testing::Contains("IMDS token rejected (401), fetching a new one"));
  EXPECT_GE(count_prefix(texts, "IMDS GET "), 4);
  for (const std::string& text : texts) {
    for (const std::string& token : tokens) {
      EXPECT_EQ(text.find(token), std::string::npos) << text;
    }
  }
}

TEST(ImdsClient, PersistentServerErrorsFailAtTheDeadline) {
  FakeImds imds;
  imds.fail_next("meta-data/local-hostname", 503, 1000000);
  ImdsOptions options = fast_options(imds);
  options.retry.initial = milliseconds{10};
  options.retry.cap = milliseconds{100};
  options.retry.deadline = seconds{1};
  ImdsClient client(options);
  ASSERT_TRUE(client.get("meta-data/instance-id").ok());  // token outside the timing

  const auto start = Clock::now();
  auto result = client.get("meta-data/local-hostname");
  const double elapsed = seconds_since(start);

  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message,
              AllOf(HasSubstr("meta-data/local-hostname"), HasSubstr("attempts"),
                    HasSubstr("1000 ms deadline"),
                    // On a loaded machine the last try can be cut by the deadline.
                    AnyOf(HasSubstr("HTTP 503"), HasSubstr("Timeout"))))
      << result.error().message;
  EXPECT_GE(elapsed, 0.8);   // kept trying until the last backoff would overrun
  EXPECT_LT(elapsed, 10.0);  // generous: a bound on the deadline, not a timing
  EXPECT_GT(count_prefix(imds.request_log(), "GET /latest/meta-data/local-hostname 503"), 5);
}

TEST(ImdsClient, UnreachableEndpointFailsAtTheDeadlineNamingTheCause) {
  FakeImds imds(0, /*start=*/false);  // a port nobody listens on
  ImdsOptions options = fast_options(imds);
  options.retry.deadline = milliseconds{500};
  ImdsClient client(options);

  const auto start = Clock::now();
  auto result = client.fetch_all();
  ASSERT_FALSE(result.ok());
  EXPECT_LT(seconds_since(start), 10.0);
  EXPECT_THAT(result.error().message,
              AllOf(HasSubstr("api/token"), HasSubstr("attempts"),
                    // Refused, or (on a loaded machine) the connect timed out.
                    AnyOf(HasSubstr("connect"), HasSubstr("Timeout"))))
      << result.error().message;
}

TEST(ImdsClient, ClientErrorsAreNotRetried) {
  FakeImds imds;
  imds.fail_next("meta-data/local-hostname", 400, 5);
  ImdsClient client(fast_options(imds));

  auto result = client.get("meta-data/local-hostname");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, AllOf(HasSubstr("meta-data/local-hostname"),
                                            HasSubstr("HTTP 400"), HasSubstr("1 attempt")));
  EXPECT_EQ(count_prefix(imds.request_log(), "GET /latest/meta-data/local-hostname"), 1);
}

TEST(ImdsClient, RedirectIsAnError) {
  FakeImds imds;
  imds.fail_next("meta-data/local-hostname", 301, 1);
  ImdsClient client(fast_options(imds));

  auto result = client.get("meta-data/local-hostname");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message,
              AllOf(HasSubstr("meta-data/local-hostname"), HasSubstr("301")));
  const auto log = imds.request_log();
  EXPECT_EQ(count_prefix(log, "GET /latest/redirected/"), 0);
  EXPECT_EQ(log.size(), 2u);  // token + the one read
}

TEST(ImdsClient, OversizedResponseIsAnErrorNamingTheCap) {
  FakeImds imds;
  imds.set("meta-data/local-hostname", std::string(5000, 'a'));
  ImdsOptions options = fast_options(imds);
  options.max_response_bytes = 1000;
  ImdsClient client(options);

  auto result = client.get("meta-data/local-hostname");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message,
              AllOf(HasSubstr("meta-data/local-hostname"), HasSubstr("1000-byte cap")));
  EXPECT_EQ(count_prefix(imds.request_log(), "GET /latest/meta-data/local-hostname"), 1);
}

TEST(ImdsClient, UserDataHasItsOwnCap) {
  FakeImds imds;
  imds.set_user_data(std::string(3000, 'u'));
  ImdsOptions options = fast_options(imds);
  options.max_response_bytes = 1000;  // metadata leaves are small
  options.max_user_data_bytes = 4000;
  {
    ImdsClient client(options);
    auto data = client.fetch_all();
    ASSERT_TRUE(data.ok()) << data.error().message;
    EXPECT_EQ(data->user_data, std::string(3000, 'u'));
  }
  options.max_user_data_bytes = 2000;
  ImdsClient client(options);
  auto data = client.fetch_all();
  ASSERT_FALSE(data.ok());
  EXPECT_THAT(data.error().message, AllOf(HasSubstr("user-data"), HasSubstr("2000-byte cap")));
}

TEST(ImdsClient, NoImdsV1FallbackUnlessAllowed) {
  for (int status : {404, 405}) {
    SCOPED_TRACE(status);
    FakeImds imds;
    imds.set_token_status(status);
    imds.set_allow_v1(true);  // the server would serve it: refusing is the client's choice
    ImdsClient client(fast_options(imds));

    auto data = client.fetch_all();
    ASSERT_FALSE(data.ok());
    EXPECT_THAT(data.error().message,
                AllOf(HasSubstr("api/token"), HasSubstr(std::to_string(status))));
    EXPECT_EQ(imds.request_count(), 1);
  }
}

TEST(ImdsClient, ImdsV1FallbackWhenAllowed) {
  for (int status : {404, 405}) {
    SCOPED_TRACE(status);
    FakeImds imds;
    imds.set_token_status(status);
    imds.set_allow_v1(true);
    std::vector<std::string> lines;
    ImdsOptions options = fast_options(imds, &lines);
    options.allow_imdsv1 = true;
    ImdsClient client(options);

    auto data = client.fetch_all();
    ASSERT_TRUE(data.ok()) << data.error().message;
    EXPECT_EQ(data->metadata.instance_id, "i-0123456789abcdef0");
    EXPECT_EQ(data->metadata.public_keys, std::vector<std::string>{k_default_key});
    EXPECT_EQ(imds.token_request_count(), 1);  // asked once, then read tokenless
    EXPECT_TRUE(imds.issued_tokens().empty());
    EXPECT_THAT(lines, ::testing::Contains(HasSubstr("without a token")));
  }
}

TEST(ImdsClient, Ipv6BaseUrlIsUsedAsIs) {
  // No IPv6 IMDS on loopback here; what matters is that the bracketed host
  // reaches libcurl intact (a broken URL would be "URL malformed", at once).
  ImdsOptions options;
  options.base_url = "http://[::1]:1";
  options.retry.initial = milliseconds{10};
  options.retry.deadline = milliseconds{200};
  ImdsClient client(options);

  auto result = client.get("meta-data/local-hostname");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("api/token"));
  EXPECT_THAT(result.error().message, ::testing::Not(HasSubstr("URL")));
  EXPECT_GT(client.request_count(), 1);  // retried like any unreachable endpoint
}

// The fake must behave like real IMDS where the client depends on it,
// otherwise the tests above prove less than they claim.
TEST(ImdsFake, TokenRulesMatchRealImds) {
  FakeImds imds;
  httplib::Client http("127.0.0.1", imds.port());

  auto no_ttl = http.Put("/latest/api/token", "", "text/plain");
  ASSERT_TRUE(no_ttl);
  EXPECT_EQ(no_ttl->status, 400);

  httplib::Headers ttl{{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  auto forwarded = ttl;
  forwarded.emplace("X-Forwarded-For", "10.1.2.3");
  auto refused = http.Put("/latest/api/token", forwarded, "", "text/plain");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);

  auto wrong_method = http.Get("/latest/api/token", ttl);
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);

  auto tokenless = http.Get("/latest/meta-data/local-hostname");
  ASSERT_TRUE(tokenless);
  EXPECT_EQ(tokenless->status, 401);

  auto token = http.Put("/latest/api/token", ttl, "", "text/plain");
  ASSERT_TRUE(token);
  ASSERT_EQ(token->status, 200);
  EXPECT_EQ(token->body.size(), 56u);
  EXPECT_EQ(imds.issued_tokens(), std::vector<std::string>{token->body});

  httplib::Headers auth{{"X-aws-ec2-metadata-token", token->body}};
  auto read = http.Get("/latest/meta-data/local-hostname", auth);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  imds.expire_tokens();
  auto expired = http.Get("/latest/meta-data/local-hostname", auth);
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->status, 401);
}

TEST(ImdsFake, DirectoriesListLikeRealImds) {
  FakeImds imds;
  imds.set_allow_v1(true);
  httplib::Client http("127.0.0.1", imds.port());
  auto body = [&](const std::string& path) {
    auto res = http.Get(path);
    return res ? std::to_string(res->status) + " " + res->body : std::string("no response");
  };
  EXPECT_EQ(body("/latest/meta-data/public-keys/"), "200 0=test-key");
  EXPECT_EQ(body("/latest/meta-data/public-keys/0/"), "200 openssh-key");
  EXPECT_EQ(body("/latest/meta-data/block-device-mapping/"), "200 ami\nroot");
  EXPECT_THAT(body("/latest/meta-data/"),
              AllOf(HasSubstr("block-device-mapping/\n"), HasSubstr("public-keys/"),
                    HasSubstr("local-hostname")));
  EXPECT_EQ(body("/latest/user-data"), "404 ");
  EXPECT_EQ(body("/latest/meta-data/nothing-here"), "404 ");
}

}  // namespace
}  // namespace amiboot
