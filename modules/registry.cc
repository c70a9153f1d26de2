// The one module table. Adding a module: its files, its test, one row here.
#include <algorithm>
#include <string_view>

#include "modules/bootcmd.h"
#include "modules/final_message.h"
#include "modules/module.h"
#include "modules/packages.h"
#include "modules/readiness.h"
#include "modules/runcmd.h"
#include "modules/scripts.h"
#include "modules/write_files.h"

namespace amiboot {

namespace {

void no_keys(const Value&, Diagnostics&) {}

}  // namespace

const std::vector<ModuleSpec>& module_table() {
  using enum Stage;
  using enum Frequency;
  // One row per module reads better than the formatter's layout.
  // clang-format off
  static const std::vector<ModuleSpec> table = {
      // name, keys, stage, frequency, runs_without_keys, check, plan
      {"boothooks", {}, Init, PerBoot, true, no_keys, plan_boothooks},
      {"bootcmd", {"bootcmd"}, Init, PerBoot, false, check_bootcmd, plan_bootcmd},
      {"write_files", {"write_files"}, Init, PerInstance, false, check_write_files, plan_write_files},
      {"write_files_deferred", {"write_files"}, Final, PerInstance, false, no_keys, plan_write_files_deferred},
      {"packages", {"packages", "package_update", "package_upgrade", "package_reboot_if_required"}, Final, PerInstance, false, check_packages, nullptr},
      {"runcmd", {"runcmd"}, Final, PerInstance, false, check_runcmd, plan_runcmd},
      {"scripts_per_once", {}, Final, Once, true, no_keys, plan_scripts_per_once},
      {"scripts_per_boot", {}, Final, PerBoot, true, no_keys, plan_scripts_per_boot},
      {"scripts_per_instance", {}, Final, PerInstance, true, no_keys, plan_scripts_per_instance},
      {"scripts_user", {}, Final, PerInstance, true, no_keys, plan_scripts_user},
      {"phone_home", {"phone_home"}, Final, PerInstance, false, check_phone_home, plan_phone_home},
      {"final_message", {"final_message"}, Final, PerBoot, true, check_final_message, plan_final_message},
      // Last, so its SUCCESS or FAILURE covers every module before it.
      {"readiness", {"readiness"}, Final, PerBoot, false, check_readiness, plan_readiness},
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
  // Top-level keys of cloud-init's cloud-config-v1 schema whose modules
  // amiboot does not have (yet). Keys of modules we do have are in the table.
  static constexpr std::string_view kKeys[] = {"ansible",
                                               "apk_repos",
                                               "apt",
                                               "apt_pipelining",
                                               "apt_preserve_sources_list",
                                               "byobu_by_default",
                                               "ca_certs",
                                               "ca-certs",
                                               "chef",
                                               "chpasswd",
                                               "device_aliases",
                                               "disable_ec2_metadata",
                                               "disable_root",
                                               "disable_root_opts",
                                               "disk_setup",
                                               "drivers",
                                               "fan",
                                               "fqdn",
                                               "fs_setup",
                                               "groups",
                                               "growpart",
                                               "grub_dpkg",
                                               "hostname",
                                               "keyboard",
                                               "landscape",
                                               "locale",
                                               "locale_configfile",
                                               "lxd",
                                               "manage_etc_hosts",
                                               "manage_resolv_conf",
                                               "mcollective",
                                               "merge_how",
                                               "merge_type",
                                               "mounts",
                                               "mount_default_fields",
                                               "no_ssh_fingerprints",
                                               "ntp",
                                               "power_state",
                                               "prefer_fqdn_over_hostname",
                                               "preserve_hostname",
                                               "puppet",
                                               "random_seed",
                                               "reporting",
                                               "resize_rootfs",
                                               "resolv_conf",
                                               "rh_subscription",
                                               "rsyslog",
                                               "salt_minion",
                                               "snap",
                                               "spacewalk",
                                               "ssh",
                                               "ssh_authorized_keys",
                                               "ssh_deletekeys",
                                               "ssh_fp_console_blacklist",
                                               "ssh_genkeytypes",
                                               "ssh_import_id",
                                               "ssh_key_console_blacklist",
                                               "ssh_keys",
                                               "ssh_publish_hostkeys",
                                               "ssh_pwauth",
                                               "ssh_quiet_keygen",
                                               "swap",
                                               "system_info",
                                               "timezone",
                                               "ubuntu_advantage",
                                               "ubuntu_pro",
                                               "updates",
                                               "user",
                                               "users",
                                               "vendor_data",
                                               "wireguard",
                                               "write_metadata",
                                               "yum_repo_dir",
                                               "yum_repos",
                                               "zypper",
                                               "password",
                                               "create_hostname_file",
                                               "autoinstall",
                                               "bootcmd_default"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

}  // namespace amiboot
