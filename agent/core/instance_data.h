// SPDX-License-Identifier: Apache-2.0
// cloud-init's instance-data for EC2, built from the metadata amiboot holds:
// the names `## template: jinja` user data and `amiboot query --format` see.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "agent/core/metadata.h"

namespace amiboot {

/// What the core cannot read itself (it does no I/O): the running system,
/// filled by the agent from /etc/os-release and uname(2). Empty fields stay
/// empty strings in the output.
struct HostInfo {
  std::string distro;          // os-release ID: "debian"
  std::string distro_version;  // VERSION_ID: "12"
  std::string distro_release;  // VERSION_CODENAME: "bookworm"
  std::string kernel_release;  // uname -r
  std::string machine;         // uname -m; empty: the architecture amiboot was built for
};

/// cloud-init's instance-data.json for EC2 (doc/rtd/explanation/instancedata.rst,
/// cloudinit/sources/__init__.py _get_standardized_metadata):
///   v1: _beta_keys, availability_zone and availability-zone, cloud_id,
///       cloud_name and cloud-name ("aws"), distro, distro_release,
///       distro_version, instance_id and instance-id, instance_type,
///       kernel_release, local_hostname and local-hostname, machine,
///       platform ("ec2"), public_ssh_keys, region, subplatform
///       ("metadata (http://169.254.169.254)" or "seed-dir (DIR)"), variant
///       (the distro); instance_type is amiboot's own addition;
///   every v1 key again at the top level, as cloud-init's aliases;
///   ds.meta_data: the EC2 metadata tree as IMDS names it (ami-id,
///       instance-id, instance-type, local-hostname, local-ipv4,
///       placement.availability-zone, placement.region,
///       public-keys.N.openssh-key, block-device-mapping.NAME);
///   ds.dynamic.instance_identity.document: instanceId, region,
///       availabilityZone, instanceType, imageId, privateIp, architecture;
///   plus, as cloud-init's jinja-safe aliases, every key under ds that has a
///   '-', '.', '/' or '+' again with '_' in its place (ds.meta_data.local_hostname).
/// No user data, no secrets.
nlohmann::json instance_data(const Metadata& md, const HostInfo& host = {});

}  // namespace amiboot
