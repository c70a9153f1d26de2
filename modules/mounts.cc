// SPDX-License-Identifier: Apache-2.0
// The `mounts` row (every boot): looks again at the volumes an earlier boot
// left pending, mounts amiboot's fstab entries whose devices came late, and
// the mount/swapon actions both volumes rows emit.
#include "modules/mounts.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>
#include <variant>

#include "modules/device_names.h"
#include "modules/lanes.h"
#include "modules/volumes.h"
#include "modules/volumes_config.h"

namespace amiboot {

namespace {

// systemd's own unit for an entry acts as soon as its device shows up too.
constexpr auto kSettle = std::chrono::milliseconds(1500);

// The text at `path` once `earlier` is applied: its last write or removal
// there, else what is there now.
std::optional<std::string> text_after(const std::vector<Action>& earlier, const std::string& path,
                                      const Facts& facts) {
  std::optional<std::string> text = facts.system.read_text(path);
  for (const auto& action : earlier) {
    if (const auto* w = std::get_if<WriteFile>(&action); w != nullptr && w->path == path) {
      text = w->append ? text.value_or("") + w->content : w->content;
    } else if (const auto* r = std::get_if<RemoveFile>(&action); r != nullptr && r->path == path) {
      text.reset();
    }
  }
  return text;
}

}  // namespace

PlanFootprint mounts_reach(const std::vector<Action>& earlier, const Facts& facts) {
  const std::string pending_path = pending_volumes_path(facts);
  PlanFootprint reach{{kFstabPath, pending_path}, {kFstabPath, pending_path}, {}};
  auto mount_at = [&](const std::string& file) {
    if (!file.empty() && file[0] == '/') {
      reach.applied.push_back(file);
      reach.mounts.push_back(file);
    }
  };
  for (const auto& o : parse_fstab(text_after(earlier, kFstabPath, facts).value_or("")).owned) {
    if (o.entry.type != "swap") {
      mount_at(o.entry.file);
    }
  }
  if (!facts.new_instance) {
    auto text = text_after(earlier, pending_path, facts);
    auto pending = text ? parse_pending_volumes(*text) : std::nullopt;
    if (pending && !pending->empty()) {
      reach.applied.emplace_back("/dev");
      for (const auto& m : pending->mounts) {
        if (m.fields.type != "swap") {
          mount_at(m.fields.file);
        }
      }
    }
  }
  return reach;
}

std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') {
    path.pop_back();
  }
  return path;
}

bool is_mounted_at(const std::vector<MountedFs>& mounts, const std::string& target) {
  std::string t = without_trailing_slashes(target);
  return std::any_of(mounts.begin(), mounts.end(),
                     [&](const MountedFs& m) { return !m.target.empty() && m.target == t; });
}

std::vector<Action> mount_actions(const std::string& source, const FstabEntry& e,
                                  const std::string& name) {
  std::vector<Action> out;
  // A mount point the image has keeps its mode and owner, as with mkdir -p.
  out.push_back(MakeDir{e.file, 0755, "root", "mkdir " + e.file + " for " + name, true});
  std::vector<std::string> argv = {"mount"};
  if (!e.type.empty() && e.type != "auto") {
    argv.insert(argv.end(), {"-t", e.type});
  }
  argv.insert(argv.end(), {"-o", e.options, source});
  RunCommand mount{argv, "mount " + name + " (" + source + ") at " + e.file};
  mount.needs_mounted_root = true;
  out.push_back(mount.target_path(e.file));
  return out;
}

RunCommand swapon_action(const std::string& what, const std::string& name) {
  RunCommand r{{"swapon", what}, "swapon " + name + " (" + what + ")"};
  // Never on the machine that runs a sandboxed test or an image build.
  r.needs_host = true;
  return r;
}

std::string seconds_text(std::chrono::seconds s) {
  return std::to_string(s.count()) + " s";
}

PlanResult plan_mounts(const NoKeys&, const Facts& facts) {
  PlanResult result;
  result.apply_with_errors = true;
  // For the lanes (modules/lanes.h): the fstab and the pending record read
  // here, the block devices and what is mounted; the actions' mount points.
  const std::string pending_path = pending_volumes_path(facts);
  result.footprint = PlanFootprint{{kFstabPath, pending_path}, {}, {}};
  VolumesSettings settings = decode_volumes_settings(facts.image_config, result.diagnostics);
  auto text = facts.system.read_text(kFstabPath);
  // The first boot of an instance: the volumes row has just waited for
  // every device, and the wait is bounded for the boot, not per row.
  std::chrono::seconds budget =
      facts.new_instance ? std::chrono::seconds(0) : settings.device_timeout;
  std::optional<PendingVolumes> pending;
  if (!facts.new_instance) {
    if (auto saved = facts.system.read_text(pending_path)) {
      pending = parse_pending_volumes(*saved);
      if (!pending) {
        result.diagnostics.push_back(Diagnostic{
            Diagnostic::Severity::Warning,
            {},
            "",
            pending_path + " is unreadable; the volumes left pending are not looked at"});
      }
    }
  }
  ParsedFstab fstab = parse_fstab(text.value_or(""));
  if (fstab.owned.empty() && (!pending || pending->empty())) {
    return result;
  }
  if (facts.blocks == nullptr) {
    result.diagnostics.push_back(Diagnostic{
        Diagnostic::Severity::Error, {}, "", "internal error: no view of block devices"});
    return result;
  }
  const BlockDevices& blocks = *facts.blocks;
  auto started = blocks.now();
  auto deadline = started + budget;
  std::set<std::string> pending_names;
  std::string summary;
  if (pending && !pending->empty()) {
    // Volumes attached since: formatted when blank, in fstab, mounted.
    for (const auto& r : pending->mounts) {
      pending_names.insert(r.spec);
    }
    PlanResult done = plan_pending_volumes(*pending, settings, facts, deadline);
    result.actions = std::move(done.actions);
    result.diagnostics.insert(result.diagnostics.end(), done.diagnostics.begin(),
                              done.diagnostics.end());
    summary = done.summary;
  }
  auto mounts = blocks.mounts();
  auto swaps = blocks.active_swaps();
  std::vector<std::string> absent;
  Position at{kFstabPath, 0, 0};
  for (const auto& o : fstab.owned) {
    const FstabEntry& e = o.entry;
    bool swap = e.type == "swap";
    if (pending_names.count(o.name) > 0 ||
        (!swap && (e.file.empty() || e.file[0] != '/' || is_mounted_at(mounts, e.file)))) {
      continue;
    }
    std::string source = e.spec;
    bool by_uuid = e.spec.rfind("UUID=", 0) == 0;
    bool by_path = e.spec.rfind("/dev/", 0) == 0;
    if (by_uuid || by_path) {
      // systemd mounted what was there at boot; this is for what came late.
      std::string uuid = by_uuid ? e.spec.substr(5) : "";
      std::optional<std::string> node;
      bool waited = false;
      for (;;) {
        node = by_uuid ? blocks.find_uuid(uuid) : blocks.find(e.spec);
        if (node || blocks.now() >= deadline) {
          break;
        }
        waited = true;
        pause_before_next_poll(blocks, deadline);
      }
      if (node && waited) {
        // systemd's own unit for this line (nofail) acts as soon as the
        // device shows up too: give it a moment, and only do what it did not,
        // or the filesystem ends up mounted twice on the same folder.
        blocks.sleep_for(kSettle);
        auto now_swaps = blocks.active_swaps();
        if (swap ? std::find(now_swaps.begin(), now_swaps.end(), *node) != now_swaps.end()
                 : is_mounted_at(blocks.mounts(), e.file)) {
          continue;
        }
      }
      if (!node) {
        // Not attached (yet): its line has nofail, and systemd or the next
        // boot mounts it when it comes.
        absent.push_back(o.name);
        result.diagnostics.push_back(Diagnostic{
            Diagnostic::Severity::Warning, at, "",
            o.name + ": " + (by_uuid ? "no device with filesystem UUID " + uuid : e.spec) +
                " (for " + (swap ? std::string("swap") : e.file) + ") appeared within " +
                seconds_text(budget) + "; not mounted"});
        continue;
      }
      source = *node;
    }
    if (swap) {
      if (std::find(swaps.begin(), swaps.end(), source) == swaps.end()) {
        result.actions.push_back(swapon_action(source, o.name));
      }
      continue;
    }
    auto actions = mount_actions(source, e, o.name);
    result.actions.insert(result.actions.end(), actions.begin(), actions.end());
  }
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(blocks.now() - started);
  if (!absent.empty() || (summary.empty() && waited.count() >= 100)) {
    std::string names;
    for (const auto& n : absent) {
      names += (names.empty() ? "" : ", ") + n;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(waited.count()) / 1000);
    std::string own = std::string("waited ") + buf + " for devices (at most " +
                      seconds_text(budget) + ")" +
                      (names.empty() ? "" : "; not attached: " + names);
    summary = summary.empty() ? own : summary + "; fstab entries: " + own;
  }
  result.summary = summary;
  result.footprint->applied = action_paths(result.actions);
  result.footprint->mounts = mount_points(result.actions);
  return result;
}

}  // namespace amiboot
