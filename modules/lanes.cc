// SPDX-License-Identifier: Apache-2.0
#include "modules/lanes.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "modules/mounts.h"
#include "modules/volumes.h"

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
      // filesystem, make a host key, restart rsyslog or mount other disks.
      // volumes reads the block devices and partition tables to plan,
      // formats disks and sizes swap files from free space, all of which
      // must see the grown disk, as in sequence: it is planned in its own
      // lane once this one is over (plans_after), or at its row after it.
      {"growpart",
       {"random_seed", "hostname", "resolv_conf", "ssh_host_keys", "volumes", "mounts", "rsyslog",
        "users", "set_passwords"}},
      // The host keys (ssh-keygen under /etc/ssh, sshd_config's lines for
      // host certificates): beside the volumes, users and passwords when
      // their plans show no common path: a mount over /etc or /etc/ssh, or
      // ssh_pwauth writing the sshd_config the keys' certificates change,
      // waits for the keys. Its plan's reads (/etc/group for the ssh_keys
      // group) are over before users starts.
      {"ssh_host_keys", {"volumes", "mounts", "users", "set_passwords"}, true},
      // Partitions, mkfs, fstab, mounts and the swap file: beside users and
      // set_passwords when no mount point is a home folder, /etc or one of
      // their folders (a mount over /home waits, so homes land on it as in
      // sequence). Planned in its lane, so that neither the grown root disk
      // nor a device that is slow to appear holds the rows after it: its
      // reach (the fstab, the pending record, every mount point and swap
      // file its config names) is what they are checked against. mounts
      // (per boot) reads the fstab this row writes, and what is mounted: it
      // follows in this lane, and users and set_passwords are checked
      // against what both may mount (every amiboot entry of the fstab this
      // row leaves).
      {"volumes",
       {"users", "set_passwords"},
       true,
       LaneFollower{"mounts", mounts_reach},
       reach_of<decode_volumes, volumes_reach>,
       {"growpart"}},
  };
  return lanes;
}

namespace {

// Without its trailing slashes ("/" stays).
std::string_view trimmed(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') {
    p.remove_suffix(1);
  }
  return p;
}

}  // namespace

bool paths_overlap(std::string_view a, std::string_view b) {
  a = trimmed(a);
  b = trimmed(b);
  if (a.size() > b.size()) {
    std::swap(a, b);
  }
  // a is the shorter: equal, or an ancestor of b at a component boundary.
  return b.substr(0, a.size()) == a && (b.size() == a.size() || a == "/" || b[a.size()] == '/');
}

namespace {

// Written by the runner between rows (state, semaphores, status.json, the
// cloud-init compatibility files) from the main thread.
constexpr std::string_view kAgentPaths[] = {"/var/lib/amiboot", "/run/amiboot", "/var/lib/cloud",
                                            "/run/cloud-init"};

// The first pair of overlapping paths, "" when none.
std::string first_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (const auto& x : a) {
    for (const auto& y : b) {
      if (paths_overlap(x, y)) {
        return x == y ? x : x + " and " + y;
      }
    }
  }
  return "";
}

}  // namespace

std::string lane_refusal(const std::optional<PlanFootprint>& footprint) {
  if (!footprint) {
    return "its plan does not say which paths it touches";
  }
  std::vector<std::string> agent(std::begin(kAgentPaths), std::end(kAgentPaths));
  if (auto at = first_overlap(footprint->mounts, agent); !at.empty()) {
    return "it mounts over the agent's own files (" + at + ")";
  }
  return "";
}

std::string lane_conflict(std::string_view lane, const PlanFootprint& lane_footprint,
                          std::string_view next,
                          const std::optional<PlanFootprint>& next_footprint) {
  std::string l(lane);
  std::string n(next);
  if (!next_footprint) {
    return n + "'s plan does not say which paths it touches";
  }
  std::vector<std::string> touched = next_footprint->read;
  touched.insert(touched.end(), next_footprint->applied.begin(), next_footprint->applied.end());
  if (auto at = first_overlap(lane_footprint.mounts, touched); !at.empty()) {
    return l + " mounts over what " + n + " touches (" + at + ")";
  }
  if (auto at = first_overlap(lane_footprint.applied, next_footprint->mounts); !at.empty()) {
    return n + " mounts over what " + l + " touches (" + at + ")";
  }
  if (auto at = first_overlap(lane_footprint.mounts, next_footprint->mounts); !at.empty()) {
    return "both mount over " + at;
  }
  if (auto at = first_overlap(lane_footprint.applied, touched); !at.empty()) {
    return "both touch " + at;
  }
  return "";
}

std::string beyond_reach(const PlanFootprint& plan, const PlanFootprint& reach) {
  auto first_outside = [](const std::vector<std::string>& paths,
                          const std::vector<std::string>& within) -> std::string {
    for (const auto& p : paths) {
      bool inside = std::any_of(within.begin(), within.end(), [&](const std::string& w) {
        // Overlapping and no longer than p: p is w or below it.
        return paths_overlap(p, w) && trimmed(w).size() <= trimmed(p).size();
      });
      if (!inside) {
        return p;
      }
    }
    return "";
  };
  for (auto [paths, within] :
       {std::pair{&plan.read, &reach.read}, std::pair{&plan.applied, &reach.applied},
        std::pair{&plan.mounts, &reach.mounts}}) {
    if (auto p = first_outside(*paths, *within); !p.empty()) {
      return p;
    }
  }
  return "";
}

void add_footprint(PlanFootprint& into, const PlanFootprint& more) {
  into.read.insert(into.read.end(), more.read.begin(), more.read.end());
  into.applied.insert(into.applied.end(), more.applied.begin(), more.applied.end());
  into.mounts.insert(into.mounts.end(), more.mounts.begin(), more.mounts.end());
}

std::vector<std::string> mount_points(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const auto& action : actions) {
    const auto* c = std::get_if<RunCommand>(&action);
    if (c != nullptr && !c->argv.empty() && c->argv[0] == "mount" && !c->target_paths.empty()) {
      out.push_back(c->argv.at(c->target_paths.back()));
    }
  }
  return out;
}

const ModuleLane* find_lane(const std::vector<ModuleLane>& lanes, std::string_view module) {
  auto it = std::find_if(lanes.begin(), lanes.end(),
                         [&](const ModuleLane& lane) { return lane.module == module; });
  return it == lanes.end() ? nullptr : &*it;
}

}  // namespace amiboot
