// SPDX-License-Identifier: Apache-2.0
#include "modules/readiness.h"
#include "modules/phone_home.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

struct Input : testing::ModuleFixture {
  explicit Input(const std::string& yaml) : ModuleFixture(yaml) {
    metadata.local_hostname = "ip-10-0-0-1.ec2.internal";
  }
  Facts get() {
    Facts in = facts();
    in.failed_modules = failed;
    return in;
  }
  std::vector<std::string> failed;
};

TEST(Readiness, SignalsSuccessInCfnSignalsFormat) {
  Input in("readiness: {url: 'https://wc.example/handle?sig=1', data: built}\n");
  auto plan = in.plan("readiness", in.get());
  ASSERT_EQ(plan.actions.size(), 1u);
  const auto& put = std::get<HttpRequest>(plan.actions[0]);
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.url, "https://wc.example/handle?sig=1");
  EXPECT_EQ(put.content_type, "");
  auto body = nlohmann::json::parse(put.body);
  EXPECT_EQ(body, nlohmann::json({{"Status", "SUCCESS"},
                                  {"Reason", "amiboot: all modules succeeded"},
                                  {"UniqueId", "i-abc"},
                                  {"Data", "built"}}));
}

TEST(Readiness, FailureNamesTheFailedModules) {
  Input in("readiness: {url: 'http://wc/h'}\n");
  in.failed = {"bootcmd", "runcmd"};
  auto plan = in.plan("readiness", in.get());
  auto body = nlohmann::json::parse(std::get<HttpRequest>(plan.actions[0]).body);
  EXPECT_EQ(body["Status"], "FAILURE");
  EXPECT_EQ(body["Reason"], "amiboot: modules failed: bootcmd runcmd");
}

TEST(Readiness, BadConfigNamesTheKey) {
  Diagnostics d;
  auto doc = parse_yaml("readiness:\n  url: ftp://x\n  attempts: 0\n", "user-data");
  testing::check_module("readiness", *doc, d);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].format(), "user-data:2:8: readiness.url: expected an http:// or https:// URL");
  EXPECT_EQ(d[1].format(), "user-data:3:13: readiness.attempts: expected a number from 1 to 100");
}

TEST(PhoneHome, PostsTheRequestedFieldsAsAForm) {
  Input in(
      "phone_home: {url: 'http://ph/$INSTANCE_ID/', post: [instance_id, fqdn, pub_key_ed25519], "
      "tries: 3}\n");
  in.system.files["/etc/ssh/ssh_host_ed25519_key.pub"] = "ssh-ed25519 AAAA root@host\n";
  auto plan = in.plan("phone_home", in.get());
  ASSERT_EQ(plan.actions.size(), 1u);
  std::vector<Action> expected = {HttpRequest{"POST", "http://ph/i-abc/",
                                              "instance_id=i-abc&fqdn=ip-10-0-0-1.ec2.internal&pub_"
                                              "key_ed25519=ssh-ed25519+AAAA+root%40host",
                                              "application/x-www-form-urlencoded", 3, 2000,
                                              "phone_home"}};
  EXPECT_EQ(plan.actions, expected);
}

TEST(PhoneHome, UnknownPostFieldIsAnError) {
  Diagnostics d;
  auto doc = parse_yaml("phone_home: {url: 'http://x', post: [password]}\n", "user-data");
  testing::check_module("phone_home", *doc, d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].path, "phone_home.post[0]");
}

}  // namespace
}  // namespace amiboot
