// SPDX-License-Identifier: Apache-2.0
// Readiness callbacks from the real binary to a local HTTP server standing in
// for a CloudFormation WaitCondition handle.
#include <httplib.h>

#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/fake_imds.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

class WaitCondition {
 public:
  explicit WaitCondition(int failures_first) : m_failures(failures_first) {
    m_server.Put("/handle", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(m_mutex);
      ++m_requests;
      if (m_failures > 0) {
        --m_failures;
        res.status = 500;
        return;
      }
      m_bodies.push_back(req.body);
      m_content_type = req.get_header_value("Content-Type");
      m_query = req.get_param_value("sig");
      res.status = 200;
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~WaitCondition() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(m_port) + "/handle?sig=s3cr3t-signature";
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_bodies;
  }
  int requests() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_requests;
  }
  std::string query() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_query;
  }

 private:
  httplib::Server m_server;
  std::thread m_thread;
  std::mutex m_mutex;
  int m_port = 0;
  int m_failures;
  int m_requests = 0;
  std::vector<std::string> m_bodies;
  std::string m_content_type;
  std::string m_query;
};

CommandResult run_agent(FakeImds& imds, const TempDir& root) {
  return run({amiboot_binary(), "run", "--root", root.path(), "--imds", imds.url()},
             {{"AMIBOOT_LOG", "stderr"}});
}

TEST(ReadinessSignal, SuccessAfterRetriesReachesTheHandle) {
  WaitCondition handle(2);
  FakeImds imds;
  TempDir root;
  imds.set_user_data("#cloud-config\nruncmd: [[true]]\nreadiness:\n  url: '" + handle.url() +
                     "'\n  retry_delay_ms: 50\n");
  auto r = run_agent(imds, root);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(handle.requests(), 3);
  ASSERT_EQ(handle.bodies().size(), 1u);
  auto body = nlohmann::json::parse(handle.bodies()[0]);
  EXPECT_EQ(body["Status"], "SUCCESS");
  EXPECT_EQ(body["UniqueId"], "i-0123456789abcdef0");
  EXPECT_EQ(handle.query(), "s3cr3t-signature");
  // The pre-signed URL is a credential: it stays out of logs and status.
  EXPECT_EQ((r.out + r.err).find("s3cr3t"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(root / "run/amiboot/status.json").find("s3cr3t"), std::string::npos);
}

TEST(ReadinessSignal, FailureNamesTheFailedModule) {
  WaitCondition handle(0);
  FakeImds imds;
  TempDir root;
  imds.set_user_data("#cloud-config\nbootcmd: ['exit 4']\nreadiness: {url: '" + handle.url() +
                     "'}\n");
  auto r = run_agent(imds, root);
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(handle.bodies().size(), 1u);
  auto body = nlohmann::json::parse(handle.bodies()[0]);
  EXPECT_EQ(body["Status"], "FAILURE");
  EXPECT_EQ(body["Reason"], "amiboot: modules failed: bootcmd");
}

TEST(ReadinessSignal, GivesUpAfterTheAttemptsAndSaysSo) {
  WaitCondition handle(100);
  FakeImds imds;
  TempDir root;
  imds.set_user_data("#cloud-config\nreadiness: {url: '" + handle.url() +
                     "', attempts: 3, retry_delay_ms: 10}\n");
  auto r = run_agent(imds, root);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(handle.requests(), 3);
  EXPECT_NE(r.err.find("readiness signal: gave up after 3 attempts: HTTP 500"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace amiboot::testing
