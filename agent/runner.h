// The stage runner: source -> user data -> config -> plan -> apply -> report.
#pragma once

#include <optional>
#include <string>

namespace amiboot {

enum class StageSelection { Init, Final, All };

struct RunOptions {
  std::string root = "/";
  std::optional<std::string> seed_dir;
  std::optional<std::string> imds_url;  // overrides the image config and the EC2 check
  StageSelection stage = StageSelection::All;
  bool dry_run = false;
  bool json = false;  // --dry-run output as JSON
};

/// Runs the selected stages; returns the process exit code (0: every module
/// succeeded, 1: something failed; the boot goes on either way).
int run_stages(const RunOptions& options);

/// True when /etc/amiboot/disabled exists or the kernel command line has
/// amiboot=disabled.
bool is_disabled(const std::string& root);

}  // namespace amiboot
