// SPDX-License-Identifier: Apache-2.0
// The stage runner: source -> user data -> config -> plan -> apply -> report.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "modules/lanes.h"
#include "modules/module.h"

namespace amiboot {

class System;

enum class StageSelection { Init, Final, All };

struct RunOptions {
  std::string root = "/";
  std::optional<std::string> seed_dir;
  std::optional<std::string> imds_url;  // overrides the image config and the EC2 check
  StageSelection stage = StageSelection::All;
  bool dry_run = false;
  bool json = false;  // --dry-run output as JSON
  /// The modules to run; nullptr is module_table(). Tests use their own to
  /// reach the runner's error boundaries.
  const std::vector<ModuleSpec>* modules = nullptr;
  /// The init stage's lanes (modules/lanes.h); nullptr is init_lanes().
  const std::vector<ModuleLane>* lanes = nullptr;
  /// Fetches #include URLs; empty is the HTTP client (agent/http.h). Tests
  /// count the fetches with their own.
  std::function<Result<std::string>(const std::string& url)> fetch;
  /// How long a run waits for another one on the same root (its lock,
  /// /run/amiboot/run.lock) before it gives up with an error.
  std::chrono::seconds lock_wait{900};
};

/// Runs the selected stages; returns the process exit code (0: every module
/// succeeded, 1: something failed; the boot goes on either way).
int run_stages(const RunOptions& options);
/// The same on a given System (options.root must be its root): tests run
/// the stages on a RecordingSystem.
int run_stages(const RunOptions& options, System& system);

/// True when /etc/amiboot/disabled exists or the kernel command line has
/// amiboot=disabled.
bool is_disabled(const std::string& root);
bool is_disabled(const System& system);

}  // namespace amiboot
