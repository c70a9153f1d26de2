// SPDX-License-Identifier: Apache-2.0
#include "agent/core/redact.h"

#include <gtest/gtest.h>

namespace amiboot {
namespace {

TEST(Redact, SecretBearingValuesAreReplacedAndTheRestKept) {
  auto config = nlohmann::json::parse(R"({
    "password": "Admin pass",
    "chpasswd": {"expire": false, "list": "root:x", "users": [{"name": "a", "password": "$6$s$h"}]},
    "users": [{"name": "b", "hashed_passwd": "$6$t$h", "plain_text_passwd": "p", "passwd": "q",
               "ssh_authorized_keys": ["ssh-ed25519 AAAA b"]}],
    "ssh_keys": {"ed25519_private": "-----BEGIN OPENSSH PRIVATE KEY-----", "ed25519_public": "pub"},
    "write_files": [{"path": "/etc/app.env", "content": "KEY=1",
                     "source": {"uri": "https://x/y", "headers": {"Authorization": "t"}}}],
    "readiness": {"url": "https://bucket/signed?X-Amz-Signature=abc"},
    "random_seed": {"data": "seed", "file": "/dev/urandom"},
    "runcmd": ["echo hi"],
    "list": "kept: not under chpasswd",
    "content_type": null
  })");
  auto out = redact_secrets(config);
  EXPECT_EQ(out["password"], kRedacted);
  EXPECT_EQ(out["chpasswd"]["list"], kRedacted);
  EXPECT_EQ(out["chpasswd"]["expire"], false);
  EXPECT_EQ(out["chpasswd"]["users"][0]["password"], kRedacted);
  EXPECT_EQ(out["chpasswd"]["users"][0]["name"], "a");
  EXPECT_EQ(out["users"][0]["hashed_passwd"], kRedacted);
  EXPECT_EQ(out["users"][0]["plain_text_passwd"], kRedacted);
  EXPECT_EQ(out["users"][0]["passwd"], kRedacted);
  EXPECT_EQ(out["users"][0]["ssh_authorized_keys"][0], "ssh-ed25519 AAAA b");
  EXPECT_EQ(out["ssh_keys"]["ed25519_private"], kRedacted);
  EXPECT_EQ(out["ssh_keys"]["ed25519_public"], "pub");
  EXPECT_EQ(out["write_files"][0]["content"], kRedacted);
  EXPECT_EQ(out["write_files"][0]["path"], "/etc/app.env");
  EXPECT_EQ(out["write_files"][0]["source"]["headers"], kRedacted);
  EXPECT_EQ(out["write_files"][0]["source"]["uri"], "https://x/y");
  EXPECT_EQ(out["readiness"]["url"], kRedacted);
  EXPECT_EQ(out["random_seed"]["data"], kRedacted);
  EXPECT_EQ(out["random_seed"]["file"], "/dev/urandom");
  EXPECT_EQ(out["runcmd"][0], "echo hi");
  EXPECT_EQ(out["list"], "kept: not under chpasswd");
  EXPECT_TRUE(out["content_type"].is_null());
  EXPECT_EQ(out.dump().find("Admin pass"), std::string::npos);
  EXPECT_EQ(out.dump().find("$6$"), std::string::npos);
}

}  // namespace
}  // namespace amiboot
