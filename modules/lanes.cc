// SPDX-License-Identifier: Apache-2.0
#include "modules/lanes.h"

#include <algorithm>

namespace amiboot {

const std::vector<ModuleLane>& init_lanes() {
  static const std::vector<ModuleLane> lanes = {
      // The kernel's netfilter rules (nft -f, or iptables-restore) and the
      // ruleset files and markers in /run/amiboot that only this row
      // writes. Its plan reads the config, which programs exist and its own
      // markers. No row alongside touches netfilter (rsyslog may restart
      // its service before the rules are in, as it always did); write_files
      // could write any file, the ruleset included, so it waits, and with it
      // every row after it. The first nftables call of a boot takes a second under
      // TCG (the kernel modules load), which now overlaps the rows below.
      {"firewall",
       {"growpart", "random_seed", "hostname", "resolv_conf", "ssh_host_keys", "volumes", "mounts",
        "rsyslog", "users", "set_passwords"}},
      // The root disk's partition table (libfdisk, BLKPG) and the root
      // filesystem's size (resize2fs, xfs_growfs: online, while files are
      // written). The rows alongside write small files on the root
      // filesystem and make a host key. volumes waits: it reads the block
      // devices and partition tables to plan, formats disks and sizes swap
      // files from free space, all of which must see the grown disk, as in
      // sequence; mounts and everything after it wait with it.
      {"growpart", {"random_seed", "hostname", "resolv_conf", "ssh_host_keys"}},
  };
  return lanes;
}

const ModuleLane* find_lane(const std::vector<ModuleLane>& lanes, std::string_view module) {
  auto it = std::find_if(lanes.begin(), lanes.end(),
                         [&](const ModuleLane& lane) { return lane.module == module; });
  return it == lanes.end() ? nullptr : &*it;
}

}  // namespace amiboot
