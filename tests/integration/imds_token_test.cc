// SPDX-License-Identifier: Apache-2.0
// A token from IMDS goes into a header line of every later request: one
// that is not printable ASCII without spaces is refused, never sent.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <httplib.h>

#include "agent/imds_client.h"

namespace amiboot {
namespace {

TEST(ImdsToken, ATokenWithALineBreakIsRefusedAndNeverSentAsHeaders) {
  httplib::Server server;
  std::atomic<int> smuggled{0};
  server.Put("/latest/api/token", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("abc\r\nX-Smuggled: 1", "text/plain");
  });
  server.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("X-Smuggled")) {
      ++smuggled;
    }
    res.status = 401;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  ImdsOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.retry.initial = std::chrono::milliseconds{10};
  o.retry.cap = std::chrono::milliseconds{50};
  o.retry.deadline = std::chrono::seconds{2};
  ImdsClient client(o);
  auto data = client.fetch_all();
  server.stop();
  thread.join();
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("the token is not printable ASCII without spaces; refused"),
            std::string::npos)
      << data.error().message;
  EXPECT_EQ(smuggled, 0);
}

}  // namespace
}  // namespace amiboot
