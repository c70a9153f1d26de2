// SPDX-License-Identifier: Apache-2.0
// `amiboot analyze`: the recorded runs (/var/lib/amiboot/boots/*.json) in
// boot order, the last boot's modules slowest first (blame), and an SVG
// timeline of the last boot (plot). Pure: the CLI reads the records and
// systemd's unit timestamps and prints what these return.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace amiboot {

/// The runs in the order they happened: by start time (milliseconds when
/// recorded, else the RFC 3339 second), then init before final.
std::vector<nlohmann::json> in_boot_order(std::vector<nlohmann::json> runs);

/// The runs of the last boot (same boot_id as the last run; without one,
/// the last init run and what followed it), in boot order.
std::vector<nlohmann::json> last_boot(const std::vector<nlohmann::json>& runs_in_order);

/// Each run (started, stage, instance, status, ms), then the modules that
/// ran, in run order, with their start (ms after the stage started).
std::string analyze_show(const std::vector<nlohmann::json>& runs_in_order);

/// The last boot's modules that ran, slowest first, with their stage.
std::string analyze_blame(const std::vector<nlohmann::json>& runs_in_order);

/// A systemd unit's activation in the boot, in ms since the kernel started.
struct UnitSpan {
  std::string name;
  long long start_ms = 0;
  long long end_ms = 0;  // 0: still running
};

/// An SVG timeline of the last boot: the units (when given), each stage
/// and each module that ran, on one time axis (ms since the kernel
/// started when the runs recorded it, else since the first stage started).
std::string analyze_plot(const std::vector<nlohmann::json>& runs_in_order,
                         const std::vector<UnitSpan>& units);

/// `systemctl show -p Id,InactiveExitTimestampMonotonic,...` output (one
/// block per unit, blank-line separated) as spans; units never started are
/// left out.
std::vector<UnitSpan> parse_unit_spans(const std::string& systemctl_show);

}  // namespace amiboot
