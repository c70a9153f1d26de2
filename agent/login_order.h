// SPDX-License-Identifier: Apache-2.0
// Whether logins (sshd, console logins) wait for amiboot's init stage this
// boot. systemd orders them by a drop-in that the generator
// amiboot-login-generator writes on every boot except when the instance is
// provably the one amiboot configured last and that boot's configuration
// has no per-boot init-stage work bearing on logins. The rules are here,
// pure; the generator's reads and writes are in agent/login_generator.cc
// (a program of its own, agent/login_generator_main.cc: systemd runs it
// before any unit, so it stays small), and the init stage records its side
// through System (agent/login_record.cc).
#pragma once

#include <array>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace amiboot {

/// In amiboot's state folder (0700; the file 0600): the instance id whose
/// last init stage left nothing per-boot on the login path. Written at the
/// end of an init stage that qualifies, removed at the end of one that does
/// not.
inline constexpr const char* kFastLoginRecordName = "logins-need-not-wait";
/// EC2 (Nitro) puts the instance id in the board's asset tag; readable
/// long before the network.
inline constexpr const char* kBoardAssetTagPath = "/sys/class/dmi/id/board_asset_tag";

/// The units the drop-in orders after amiboot.service: Debian's and Amazon
/// Linux's sshd, the gate of console and other logins, and Amazon Linux's
/// and RHEL's host key maker, which sshd waits for: after the init stage it
/// is skipped when amiboot makes the keys (units/sshd-keygen-skipped.conf).
inline constexpr std::array<const char*, 4> kLoginUnits = {
    "ssh.service", "sshd.service", "systemd-user-sessions.service", "sshd-keygen@.service"};
inline constexpr const char* kLoginDropInName = "50-amiboot-login.conf";
std::string login_drop_in_text();

/// The generator's rule. Each argument is nullopt when its file could not be
/// read: `board_asset_tag` (DMI), `record` (kFastLoginRecordName) and
/// `current_instance` (the target of the state's `instance` link,
/// "instances/<id>"). Logins need not wait only when all three are there
/// and name the same instance; anything unknown holds them (the default).
bool logins_wait_for_amiboot(std::optional<std::string_view> board_asset_tag,
                             std::optional<std::string_view> record,
                             std::optional<std::string_view> current_instance);

/// What one init-stage module did, as the status document records it.
struct ModuleOutcome {
  std::string name;
  std::string result;  // "ok", "failed", "skipped", "planned"
};

/// The init stage's rule for the next boot of the same instance: logins
/// need not wait when no module failed (a failed per-instance module runs
/// again on the next boot), none of the per-boot rows that bear on logins
/// did anything (bootcmd and boothooks run the user's commands before sshd
/// every boot, as cloud-init does; mounts may mount a late volume such as
/// /home), and the firewall, if it applied anything, did it with nft and
/// kept it (`nft_ruleset_kept`), so amiboot-firewall.service has it in force
/// before the network on the next boot.
bool next_boot_logins_may_skip_amiboot(const std::vector<ModuleOutcome>& init_modules,
                                       bool nft_ruleset_kept);

/// The generator: reads DMI and the state under `root` ("/" on a machine)
/// and, unless logins need not wait, writes the drop-in for each of
/// kLoginUnits under `out_dir` (systemd's normal generator folder).
/// Returns 0, or 1 when a drop-in could not be written (said on `err`).
int generate_login_order(const std::string& root, const std::string& out_dir, std::ostream& err);

}  // namespace amiboot
