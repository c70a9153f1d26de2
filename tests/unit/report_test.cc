// SPDX-License-Identifier: Apache-2.0
// The Reporter over a RecordingSystem: status.json after each module and at
// the end of a stage, warnings once, exit codes, nothing written on dry runs.
#include "agent/report.h"

#include <gtest/gtest.h>

#include "agent/state.h"
#include "tests/support/fake_system.h"

namespace amiboot {
namespace {

using testing::RecordingSystem;

nlohmann::json status_file(const RecordingSystem& system) {
  return nlohmann::json::parse(system.files.at("/run/amiboot/status.json"));
}

ModuleRecord record(const std::string& name, const std::string& result,
                    std::vector<std::string> errors = {}) {
  return ModuleRecord{name, "init", "once-per-instance", result, "", 12, std::move(errors), ""};
}

TEST(Report, StatusJsonAfterEachModuleAndTheStage) {
  RecordingSystem system;
  system.allow_writes("/run/amiboot");
  Reporter report(system, false);
  report.begin_stage("init");
  report.set_instance("i-1", "seed:/seed");
  auto doc = status_file(system);
  EXPECT_EQ(doc["status"], "running");
  EXPECT_EQ(doc["stages"]["init"]["started"], "2023-11-14T22:13:20Z");  // the System's clock

  report.module_finished(record("write_files", "ok"));
  doc = status_file(system);
  ASSERT_EQ(doc["stages"]["init"]["modules"].size(), 1u);
  EXPECT_EQ(doc["stages"]["init"]["modules"][0]["name"], "write_files");
  EXPECT_EQ(doc["stages"]["init"]["modules"][0]["result"], "ok");
  EXPECT_EQ(doc["instance_id"], "i-1");

  report.module_finished(record("users", "failed", {"useradd exited with status 9"}));
  EXPECT_TRUE(report.failed());
  doc = status_file(system);
  EXPECT_EQ(doc["errors"], nlohmann::json::array({"users: useradd exited with status 9"}));

  report.end_stage("done", true);
  doc = status_file(system);
  EXPECT_EQ(doc["stages"]["init"]["status"], "error");
  EXPECT_EQ(doc["status"], "running");  // the final stage follows
  EXPECT_FALSE(system.exists("/run/amiboot/result.json"));

  Reporter final_report(system, false);
  final_report.begin_stage("final");
  final_report.end_stage("done", false);
  doc = status_file(system);
  EXPECT_EQ(doc["stages"]["init"]["status"], "error");  // kept from init
  EXPECT_EQ(doc["stages"]["final"]["status"], "error");
  EXPECT_EQ(doc["status"], "error");
  auto result = nlohmann::json::parse(system.files.at("/run/amiboot/result.json"));
  EXPECT_EQ(result["v1"]["instance_id"], "i-1");
  for (const auto& w : system.writes) {
    EXPECT_FALSE(w.durable) << w.path;  // tmpfs, rewritten many times a boot
  }
}

TEST(Report, WarningsAreListedOnce) {
  RecordingSystem system;
  system.allow_writes("/run/amiboot");
  Reporter report(system, false);
  report.begin_stage("init");
  report.warning("warning: unknown key 'foo'");
  report.warning("unknown key 'foo'");
  report.warning("another");
  EXPECT_EQ(report.document()["warnings"], nlohmann::json::array({"unknown key 'foo'", "another"}));
  EXPECT_FALSE(report.failed());
}

TEST(Report, StatusExitCodes) {
  EXPECT_EQ(status_exit_code(std::nullopt), kExitRunning);
  EXPECT_EQ(status_exit_code(nlohmann::json{{"status", "done"}}), kExitDone);
  EXPECT_EQ(status_exit_code(nlohmann::json{{"status", "running"}}), kExitRunning);
  EXPECT_EQ(status_exit_code(nlohmann::json{{"status", "error"}}), kExitErrors);
  EXPECT_EQ(status_exit_code(nlohmann::json{{"status", "disabled"}}), kExitDisabled);
  EXPECT_EQ(status_exit_code(nlohmann::json{{"status", "not-on-ec2"}}), kExitDisabled);
  EXPECT_EQ(status_exit_code(nlohmann::json::object()), kExitRunning);
}

TEST(Report, ReadStatusIgnoresAMissingOrCorruptFile) {
  RecordingSystem system;
  EXPECT_FALSE(read_status(system));
  system.add_file("/run/amiboot/status.json", "{not json");
  EXPECT_FALSE(read_status(system));
  system.add_file("/run/amiboot/status.json", R"({"status": "done"})");
  EXPECT_EQ(status_exit_code(read_status(system)), kExitDone);
}

TEST(Report, ADryRunKeepsTheInitStagesErrorsThroughTheFinalStage) {
  // `run --dry-run --json` prints the document after both stages: a user
  // data rejected in the init stage must still be in its errors.
  RecordingSystem system;
  Reporter report(system, true);
  report.begin_stage("init");
  report.error("user-data:2:11: packages: expected a list, got an integer");
  report.end_stage("done", true);
  report.begin_stage("final");
  report.end_stage("done", false);
  ASSERT_EQ(report.document()["errors"].size(), 1u);
  EXPECT_EQ(report.document()["errors"][0],
            "user-data:2:11: packages: expected a list, got an integer");
  EXPECT_TRUE(report.document()["stages"].contains("init"));
}

TEST(Report, DryRunWritesNothing) {
  RecordingSystem system;  // no writes allowed: any would fail the test
  Reporter report(system, true);
  report.begin_stage("init");
  report.set_instance("i-1", "seed:/seed");
  report.module_finished(record("runcmd", "failed", {"boom"}));
  report.error("metadata: unreachable");
  report.end_stage("done", true, true);
  EXPECT_TRUE(system.calls.empty());
  EXPECT_EQ(report.document()["status"], "error");
}

}  // namespace
}  // namespace amiboot
