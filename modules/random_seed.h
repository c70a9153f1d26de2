// SPDX-License-Identifier: Apache-2.0
// random_seed: seed data for the kernel's entropy pool, so instances of one
// image do not start from the same pool (cloud-init's cc_seed_random, key
// `random_seed`). `data` (decoded by `encoding`: raw, base64/b64, gzip/gz) is
// appended to `file` (default /dev/urandom), then `command` (an argv) runs
// with RANDOM_SEED_FILE set to `file`. cloud-init also appends the
// datasource's own seed; IMDS has none, so only `data` is written.
//
// A file under /dev/ is the running kernel's device: written by `dd` in
// place (never replaced, as an atomic rewrite would), and not under --root,
// where the running kernel is the host's. The command seeds the running
// system too, so it is not run under --root either. Any other file is
// appended to through the executor, mapped under --root, mode 0600.
//
// A command that is not installed is a warning, or an error with
// `command_required: true` (then `command` must be given), as in cloud-init.
//
// Init stage, per instance, right after bootcmd (cloud-init: first in its init
// stage), so host keys are generated from a seeded pool.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

struct RandomSeedConfig {
  std::string file = "/dev/urandom";
  std::string data;                  // decoded bytes
  std::vector<std::string> command;  // empty: none
  bool command_required = false;
  Position command_pos;  // of `command`, else of `random_seed`
};

/// nullopt when `random_seed` is absent or malformed (reported in `out`).
std::optional<RandomSeedConfig> decode_random_seed(const Value& doc, Diagnostics& out);

PlanResult plan_random_seed(const RandomSeedConfig& config, const Facts& facts);

}  // namespace amiboot
