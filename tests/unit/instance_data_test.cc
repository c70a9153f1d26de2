// SPDX-License-Identifier: Apache-2.0
// instance_data(): cloud-init's instance-data names for EC2, from Metadata.
#include "agent/core/instance_data.h"

#include <gtest/gtest.h>

#include "agent/core/template.h"

namespace amiboot {
namespace {

Metadata sample() {
  Metadata md;
  md.instance_id = "i-0123456789abcdef0";
  md.region = "eu-west-1";
  md.availability_zone = "eu-west-1b";
  md.instance_type = "t3.micro";
  md.image_id = "ami-0abc";
  md.private_ip = "10.0.0.5";
  md.local_hostname = "ip-10-0-0-5.eu-west-1.compute.internal";
  md.public_keys = {"ssh-ed25519 AAAA one", "ssh-rsa BBBB two"};
  md.block_device_mapping = {{"root", "/dev/xvda"}, {"ebs1", "sdf"}};
  md.source = "imds";
  return md;
}

TEST(InstanceData, V1KeysAsCloudInitNamesThem) {
  auto j = instance_data(sample(),
                         HostInfo{"debian", "12", "bookworm", "6.1.0-1-cloud-amd64", "x86_64"});
  const auto& v1 = j["v1"];
  EXPECT_EQ(v1["instance_id"], "i-0123456789abcdef0");
  EXPECT_EQ(v1["instance-id"], "i-0123456789abcdef0");
  EXPECT_EQ(v1["region"], "eu-west-1");
  EXPECT_EQ(v1["availability_zone"], "eu-west-1b");
  EXPECT_EQ(v1["availability-zone"], "eu-west-1b");
  EXPECT_EQ(v1["local_hostname"], "ip-10-0-0-5.eu-west-1.compute.internal");
  EXPECT_EQ(v1["local-hostname"], "ip-10-0-0-5.eu-west-1.compute.internal");
  EXPECT_EQ(v1["cloud_name"], "aws");
  EXPECT_EQ(v1["cloud-name"], "aws");
  EXPECT_EQ(v1["cloud_id"], "aws");
  EXPECT_EQ(v1["platform"], "ec2");
  EXPECT_EQ(v1["subplatform"], "metadata (http://169.254.169.254)");
  EXPECT_EQ(v1["distro"], "debian");
  EXPECT_EQ(v1["distro_version"], "12");
  EXPECT_EQ(v1["distro_release"], "bookworm");
  EXPECT_EQ(v1["kernel_release"], "6.1.0-1-cloud-amd64");
  EXPECT_EQ(v1["machine"], "x86_64");
  EXPECT_EQ(v1["instance_type"], "t3.micro");
  EXPECT_EQ(v1["public_ssh_keys"], nlohmann::json({"ssh-ed25519 AAAA one", "ssh-rsa BBBB two"}));
  EXPECT_EQ(v1["_beta_keys"], nlohmann::json({"subplatform"}));
  // cloud-init's top-level aliases of the v1 keys.
  EXPECT_EQ(j["region"], "eu-west-1");
  EXPECT_EQ(j["cloud_name"], "aws");
}

TEST(InstanceData, DsMetaDataAndIdentityDocument) {
  auto j = instance_data(sample());
  const auto& meta = j["ds"]["meta_data"];
  EXPECT_EQ(meta["instance-id"], "i-0123456789abcdef0");
  EXPECT_EQ(meta["local-hostname"], "ip-10-0-0-5.eu-west-1.compute.internal");
  EXPECT_EQ(meta["local_hostname"], meta["local-hostname"]);  // jinja-safe alias
  EXPECT_EQ(meta["ami-id"], "ami-0abc");
  EXPECT_EQ(meta["instance-type"], "t3.micro");
  EXPECT_EQ(meta["local-ipv4"], "10.0.0.5");
  EXPECT_EQ(meta["placement"]["availability-zone"], "eu-west-1b");
  EXPECT_EQ(meta["placement"]["availability_zone"], "eu-west-1b");
  EXPECT_EQ(meta["public-keys"]["1"]["openssh-key"], "ssh-rsa BBBB two");
  EXPECT_EQ(meta["block-device-mapping"]["root"], "/dev/xvda");
  EXPECT_EQ(meta["block_device_mapping"]["ebs1"], "sdf");
  const auto& doc = j["ds"]["dynamic"]["instance_identity"]["document"];
  EXPECT_EQ(doc["instanceId"], "i-0123456789abcdef0");
  EXPECT_EQ(doc["region"], "eu-west-1");
  EXPECT_EQ(doc["availabilityZone"], "eu-west-1b");
  EXPECT_EQ(doc["instanceType"], "t3.micro");
  EXPECT_EQ(doc["imageId"], "ami-0abc");
  EXPECT_EQ(doc["privateIp"], "10.0.0.5");
  // Unknown host facts stay empty strings; the machine is the build's.
  EXPECT_EQ(j["v1"]["distro"], "");
  EXPECT_FALSE(j["v1"]["machine"].get<std::string>().empty());
}

TEST(InstanceData, CloudIdAndSubplatformFollowRegionAndSource) {
  Metadata md = sample();
  md.region = "cn-north-1";
  EXPECT_EQ(instance_data(md)["v1"]["cloud_id"], "aws-china");
  md.region = "us-gov-west-1";
  EXPECT_EQ(instance_data(md)["v1"]["cloud_id"], "aws-gov");
  md.source = "seed:/var/lib/seed";
  EXPECT_EQ(instance_data(md)["v1"]["subplatform"], "seed-dir (/var/lib/seed)");
}

TEST(InstanceData, HoldsNoUserData) {
  auto text = instance_data(sample()).dump();
  EXPECT_EQ(text.find("user"), std::string::npos);
}

TEST(InstanceData, TemplatesSeeCloudInitNames) {
  auto r = render_template(
      "{{ v1.instance_id }} {{ v1.availability_zone }} {{ ds.meta_data['local-hostname'] }} "
      "{{ ds.meta_data.placement.availability_zone }} "
      "{{ ds.dynamic.instance_identity.document.privateIp }} {{ cloud_name }}",
      instance_data(sample()), "user-data");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r,
            "i-0123456789abcdef0 eu-west-1b ip-10-0-0-5.eu-west-1.compute.internal eu-west-1b "
            "10.0.0.5 aws");
}

}  // namespace
}  // namespace amiboot
