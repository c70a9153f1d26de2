// SPDX-License-Identifier: Apache-2.0
// analyze: boot order, blame and the units' spans from systemctl show.
#include "agent/analyze.h"

#include <gtest/gtest.h>

namespace amiboot {
namespace {

nlohmann::json run_record(const std::string& stage, const std::string& started,
                          long long started_ms, const std::string& boot_id,
                          // A vector: a one-element braced list as a json
                          // parameter is the element itself under clang
                          // (CWG 2137), an array of it under GCC.
                          const std::vector<nlohmann::json>& modules) {
  nlohmann::json r = {{"stage", stage},   {"started", started}, {"instance_id", "i-1"},
                      {"status", "done"}, {"duration_ms", 50},  {"modules", modules}};
  if (started_ms >= 0) {
    r["started_ms"] = started_ms;
    r["uptime_ms"] = started_ms - 1000;
  }
  if (!boot_id.empty()) {
    r["boot_id"] = boot_id;
  }
  return r;
}

nlohmann::json module(const std::string& name, long long start, long long duration,
                      const std::string& result = "ok") {
  return {{"name", name}, {"start_ms", start}, {"duration_ms", duration}, {"result", result}};
}

TEST(Analyze, RunsAreInBootOrderInitBeforeFinalWithinOneSecond) {
  // As the boots folder lists them: final first (same second, same pid).
  auto runs = in_boot_order({
      run_record("final", "2026-11-29T07:00:01Z", -1, "", {}),
      run_record("init", "2026-11-29T07:00:01Z", -1, "", {}),
      run_record("init", "2026-11-29T06:00:00Z", -1, "", {}),
  });
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0]["started"], "2026-11-29T06:00:00Z");
  EXPECT_EQ(runs[1]["stage"], "init");
  EXPECT_EQ(runs[2]["stage"], "final");

  auto ms = in_boot_order(
      {run_record("final", "x", 5000, "b", {}), run_record("init", "x", 4000, "b", {})});
  EXPECT_EQ(ms[0]["stage"], "init");
}

TEST(Analyze, ShowListsModulesInRunOrderInMilliseconds) {
  auto runs = in_boot_order({run_record(
      "init", "2026-11-29T07:00:01Z", 1000, "b",
      {module("users", 40, 12), module("bootcmd", 2, 30), module("ntp", 0, 0, "skipped")})});
  std::string out = analyze_show(runs);
  EXPECT_EQ(out,
            "2026-11-29T07:00:01Z  init  i-1  done  50 ms  (0 ms after boot)\n"
            "  +40 ms        12 ms  users (ok)\n"
            "  +2 ms         30 ms  bootcmd (ok)\n");
}

TEST(Analyze, BlameTakesTheLastBootSlowestFirst) {
  auto runs = in_boot_order({
      run_record("init", "a", 1000, "old", {module("users", 0, 900)}),
      run_record("init", "b", 9000, "new", {module("users", 0, 12), module("bootcmd", 12, 30)}),
      run_record("final", "c", 9100, "new", {module("runcmd", 0, 20, "failed")}),
  });
  EXPECT_EQ(analyze_blame(runs),
            "      30 ms  bootcmd (init, ok)\n"
            "      20 ms  runcmd (final, failed)\n"
            "      12 ms  users (init, ok)\n");
}

TEST(Analyze, PlotHasABarAndALabelForEachUnitStageAndModule) {
  auto runs = in_boot_order({run_record("init", "b", 9000, "new", {module("bootcmd", 12, 30)})});
  std::string svg = analyze_plot(runs, {{"amiboot.service", 7900, 8100}});
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find(">amiboot.service 200 ms</text>"), std::string::npos) << svg;
  EXPECT_NE(svg.find(">init stage (done) 50 ms</text>"), std::string::npos) << svg;
  EXPECT_NE(svg.find(">bootcmd 30 ms</text>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(Analyze, UnitSpansFromSystemctlShow) {
  auto spans = parse_unit_spans(
      "Id=amiboot.service\nInactiveExitTimestampMonotonic=2500000\n"
      "ActiveEnterTimestampMonotonic=2900000\nExecMainExitTimestampMonotonic=0\n\n"
      "Id=amiboot-final.service\nInactiveExitTimestampMonotonic=0\n"
      "ActiveEnterTimestampMonotonic=0\nExecMainExitTimestampMonotonic=0\n");
  ASSERT_EQ(spans.size(), 1u);  // the final unit never started
  EXPECT_EQ(spans[0].name, "amiboot.service");
  EXPECT_EQ(spans[0].start_ms, 2500);
  EXPECT_EQ(spans[0].end_ms, 2900);
}

}  // namespace
}  // namespace amiboot
