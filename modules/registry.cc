// SPDX-License-Identifier: Apache-2.0
// The one module table. Adding a module: its files, its test, one row here.
#include <algorithm>
#include <string_view>

#include "modules/apt_configure.h"
#include "modules/apt_pipelining.h"
#include "modules/boothooks.h"
#include "modules/ca_certs.h"
#include "modules/commands.h"
#include "modules/disable_ec2_metadata.h"
#include "modules/final_message.h"
#include "modules/firewall.h"
#include "modules/growpart.h"
#include "modules/hostname.h"
#include "modules/keyboard.h"
#include "modules/locale.h"
#include "modules/module.h"
#include "modules/mounts.h"
#include "modules/ntp.h"
#include "modules/packages.h"
#include "modules/phone_home.h"
#include "modules/power_state.h"
#include "modules/random_seed.h"
#include "modules/readiness.h"
#include "modules/resolv_conf.h"
#include "modules/rpm_repos.h"
#include "modules/rsyslog.h"
#include "modules/scripts.h"
#include "modules/set_passwords.h"
#include "modules/snap.h"
#include "modules/ssh_host_keys.h"
#include "modules/timezone.h"
#include "modules/users.h"
#include "modules/volumes.h"
#include "modules/write_files.h"

namespace amiboot {

std::string_view stage_name(Stage stage) {
  return stage == Stage::Init ? "init" : "final";
}

std::string_view frequency_name(Frequency frequency) {
  switch (frequency) {
    case Frequency::PerBoot:
      return "per-boot";
    case Frequency::PerInstance:
      return "per-instance";
    case Frequency::Once:
      return "once";
  }
  return "?";
}

namespace {

// The keys of both host key rows.
std::vector<std::string_view> ssh_host_keys_keys() {
  return {"ssh_deletekeys",           "ssh_genkeytypes",           "ssh_keys",
          "ssh_quiet_keygen",         "ssh_publish_hostkeys",      "ssh",
          "ssh_fp_console_blacklist", "ssh_key_console_blacklist", "no_ssh_fingerprints"};
}

}  // namespace

const std::vector<ModuleSpec>& module_table() {
  using enum Stage;
  using enum Frequency;
  // One row per module reads better than the formatter's layout.
  // clang-format off
  static const std::vector<ModuleSpec> table = {
      // <decoder, plan>(name, keys, stage, frequency, runs_without_keys)
      module_row<decode_no_keys, plan_boothooks>("boothooks", {}, Init, PerBoot, true),
      module_row<decode_commands<kBootcmd>, plan_commands>("bootcmd", {"bootcmd"}, Init, PerBoot, false),
      // Every boot: kernel rules do not survive one. Without keys too: a
      // ruleset an earlier boot kept (applied again before the network by
      // amiboot-firewall.service) must go once the user data drops it.
      // Right after bootcmd, and applied alongside the rows below it
      // (modules/lanes.cc): the first nftables call of a boot is slow, and
      // nothing below reads what it changes.
      module_row<decode_firewall_row, plan_firewall>("firewall", {"firewall"}, Init, PerBoot, true),
      // cc_growpart and cc_resizefs, every boot (a volume can be enlarged while
      // the instance is stopped), as early as cloud-init runs them: after
      // bootcmd, which may touch /etc/growroot-disabled, before anything
      // fills the disk.
      module_row<decode_growpart, plan_growpart>("growpart", {"growpart", "resize_rootfs"}, Init, PerBoot, true),
      // cloud-init seeds first in its init stage; here after bootcmd (which
      // runs before anything configured), still before host keys are made.
      module_row<decode_random_seed, plan_random_seed>("random_seed", {"random_seed"}, Init, PerInstance, false),
      // Named first, so host keys carry the new name; keys before users, so
      // sshd finds both when it starts after us.
      module_row<decode_hostname, plan_hostname>("hostname", {"hostname", "fqdn", "prefer_fqdn_over_hostname", "preserve_hostname", "manage_etc_hosts", "create_hostname_file"}, Init, PerInstance, true),
      // After the name, as in cloud-init; before anything later in the boot looks a name up.
      module_row<decode_resolv_conf, plan_resolv_conf>("resolv_conf", {"manage_resolv_conf", "resolv_conf"}, Init, PerInstance, false),
      // cc_ssh's host keys, only those sshd needs to start: the rest and
      // cc_keys_to_console's output are ssh_host_keys_final's.
      module_row<decode_ssh_host_keys, plan_ssh_host_keys>("ssh_host_keys", ssh_host_keys_keys(), Init, PerInstance, true),
      // Filesystems and fstab once per instance; the wait and mount on every
      // boot, for volumes that attach late. Before users (as in cloud-init): a
      // volume mounted on /home afterwards would hide the new home folders.
      module_row<decode_volumes, plan_volumes>("volumes", {"disk_setup", "fs_setup", "mounts", "mount_default_fields", "swap", "device_aliases"}, Init, PerInstance, true),
      module_row<decode_no_keys, plan_mounts>("mounts", {}, Init, PerBoot, true),
      module_row<decode_rsyslog, plan_rsyslog>("rsyslog", {"rsyslog"}, Init, PerInstance, false),
      // Without keys too: the default user gets the IMDS keys even when the user data is broken.
      module_row<decode_users, plan_users>("users", {"users", "user", "groups", "ssh_authorized_keys", "allow_public_ssh_keys", "disable_root", "disable_root_opts", "system_info"}, Init, PerInstance, true),
      // After users, whose decoder it shares: `password` is the default user's.
      module_row<decode_users, plan_set_passwords>("set_passwords", {"chpasswd", "password", "ssh_pwauth"}, Init, PerInstance, false),
      // One decoder for both rows: write_files is decoded once a boot.
      module_row<decode_write_files, plan_write_files>("write_files", {"write_files"}, Init, PerInstance, false),
      // cloud-init's config-stage modules, in its order, after write_files as
      // there; here before the init stage is done, so the services that start
      // after it read the layout, locale and zone from the start.
      module_row<decode_keyboard, plan_keyboard>("keyboard", {"keyboard"}, Init, PerInstance, false),
      module_row<decode_locale, plan_locale>("locale", {"locale", "locale_configfile"}, Init, PerInstance, false),
      module_row<decode_apt_pipelining, plan_apt_pipelining>("apt_pipelining", {"apt_pipelining"}, Init, PerInstance, false),
      module_row<decode_timezone, plan_timezone>("timezone", {"timezone"}, Init, PerInstance, false),
      // cloud-init's config stage first (snap, ntp, then disable_ec2_metadata),
      // as cloud-init runs it before its final stage: the user's scripts and
      // runcmd already find the snaps, the clock set up and IMDS closed. snap
      // here, not in the init stage: snapd is up and seeding by now.
      // First in the stage: the host keys the init stage left for later (RSA
      // takes seconds), sshd reloaded, all fingerprints on the console, before
      // snaps and packages take their time.
      module_row<decode_ssh_host_keys, plan_ssh_host_keys_final>("ssh_host_keys_final", ssh_host_keys_keys(), Final, PerInstance, true),
      // cloud-init's is in its init stage; here in the final stage, because
      // update-ca-certificates takes tens of seconds on a small vCPU (a shell
      // loop over the whole bundle) and neither sshd nor a login needs the
      // CA. Before every row that fetches over TLS with the image's trust
      // store (snap, the repositories, write_files_deferred, packages,
      // scripts, phone_home, readiness); the init stage's write_files
      // `source:` runs before it, as it does before cc_ca_certs in cloud-init.
      module_row<decode_ca_certs, plan_ca_certs>("ca_certs", {"ca_certs", "ca-certs"}, Final, PerInstance, false),
      // cloud-init configures rsyslog after ca_certs; here rsyslog stays in
      // the init stage (its remotes get the boot's logs from then on) and
      // reads the trust store again once ca_certs has added to it.
      module_row<decode_rsyslog, plan_rsyslog_after_ca_certs>("rsyslog_after_ca_certs", {"rsyslog"}, Final, PerInstance, false),
      module_row<decode_snap, plan_snap>("snap", {"snap"}, Final, PerInstance, false),
      // Repositories in cloud-init's config-stage order, before ntp and
      // packages install from them; each refreshes the index when it adds
      // one, so `packages` finds the new repository's packages.
      module_row<decode_apt_configure, plan_apt_configure>("apt_configure", {"apt"}, Final, PerInstance, false),
      module_row<decode_yum_add_repo, plan_yum_add_repo>("yum_add_repo", {"yum_repos", "yum_repo_dir"}, Final, PerInstance, false),
      module_row<decode_zypper_add_repo, plan_zypper_add_repo>("zypper_add_repo", {"zypper"}, Final, PerInstance, false),
      module_row<decode_ntp, plan_ntp>("ntp", {"ntp"}, Final, PerInstance, false),
      module_row<decode_disable_ec2_metadata, plan_disable_ec2_metadata>("disable_ec2_metadata", {"disable_ec2_metadata"}, Final, PerBoot, false),
      module_row<decode_packages, plan_packages>("packages", {"packages", "package_update", "package_upgrade", "package_reboot_if_required", "apt_update", "apt_upgrade", "apt_reboot_if_required"}, Final, PerInstance, false),
      // After packages, as in cloud-init ("after users were created, and
      // packages were installed"): a deferred file may go into a folder a
      // package makes, or belong to a user a package adds.
      module_row<decode_write_files, plan_write_files_deferred>("write_files_deferred", {"write_files"}, Final, PerInstance, false),
      module_row<decode_no_keys, plan_scripts_per_once>("scripts_per_once", {}, Final, Once, true),
      module_row<decode_no_keys, plan_scripts_per_boot>("scripts_per_boot", {}, Final, PerBoot, true),
      module_row<decode_no_keys, plan_scripts_per_instance>("scripts_per_instance", {}, Final, PerInstance, true),
      // runcmd among the user-data scripts, in one pass by name, as cloud-init runs its script `runcmd`.
      module_row<decode_user_scripts, plan_scripts_user>("scripts_user", {"runcmd"}, Final, PerInstance, true),
      module_row<decode_phone_home, plan_phone_home>("phone_home", {"phone_home"}, Final, PerInstance, false),
      module_row<decode_final_message, plan_final_message>("final_message", {"final_message"}, Final, PerBoot, true),
      // Last in cloud-init. Its row only plans the change; the runner makes it
      // after the stage is done and written (Runner::change_power()), so the
      // readiness signal after it still covers this row.
      module_row<decode_power_state, plan_power_state>("power_state", {"power_state"}, Final, PerInstance, false),
      // Last, so its SUCCESS or FAILURE covers every module before it.
      module_row<decode_readiness, plan_readiness>("readiness", {"readiness"}, Final, PerBoot, false),
  };
  // clang-format on
  return table;
}

const ModuleSpec* find_module(std::string_view name) {
  for (const auto& m : module_table()) {
    if (m.name == name) {
      return &m;
    }
  }
  return nullptr;
}

bool is_cloud_init_key_we_lack(std::string_view key) {
  // Top-level keys of cloud-init's cloud-config-v1 schema
  // (cloudinit/config/schemas/schema-cloud-config-v1.json) that no row here
  // acts on: cloud-init's own settings (`cloud_*_modules`, `output`,
  // `version`, `launch-index`, `migrate`) and the keys of modules amiboot does
  // not have (yet). Keys of modules we do have are in the table.
  // ModuleTable.EveryKeyOfCloudInitsSchemaIsOwnedOrKnownToBeLacking keeps
  // this in step with the schema.
  static constexpr std::string_view kKeys[] = {
      "ansible",
      "apk_repos",
      "apt_preserve_sources_list",
      "authkey_hash",
      "autoinstall",
      "bootcmd_default",
      "byobu_by_default",
      "chef",
      "cloud_config_modules",
      "cloud_final_modules",
      "cloud_init_modules",
      "drivers",
      "fan",
      "grub-dpkg",
      "grub_dpkg",
      "landscape",
      "launch-index",
      "lxd",
      "mcollective",
      "migrate",
      "output",
      "puppet",
      "reporting",
      "rh_subscription",
      "rpi",
      "salt_minion",
      "spacewalk",
      "ssh_import_id",
      "ubuntu_advantage",
      "ubuntu_pro",
      "updates",
      "vendor_data",
      "version",
      "wireguard",
      "write_metadata",
  };
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

}  // namespace amiboot
