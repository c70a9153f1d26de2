// SPDX-License-Identifier: Apache-2.0
// The cloud-init compatibility layer: amiboot's status as cloud-init reports
// it (text and exit code per state), the command dispatch, and the files in
// cloud-init's JSON shapes, written only with the compat package's marker.
#include "agent/cloud_init_compat.h"

#include <gtest/gtest.h>

#include "tests/support/fake_system.h"

namespace amiboot {
namespace {

using testing::RecordingSystem;

nlohmann::json amiboot_doc(const std::string& status, std::vector<std::string> errors = {},
                           std::vector<std::string> warnings = {}) {
  return {{"version", 1},
          {"status", status},
          {"stage", "final"},
          {"instance_id", "i-1"},
          {"source", "imds"},
          {"stages",
           {{"init",
             {{"status", "done"},
              {"started", "2024-03-01T10:00:00Z"},
              {"finished", "2024-03-01T10:00:02Z"},
              {"modules",
               {{{"name", "bootcmd"}, {"result", "ok"}, {"reason", ""}, {"duration_ms", 3}},
                {{"name", "users"},
                 {"result", "skipped"},
                 {"reason", "not configured"},
                 {"duration_ms", 0}}}}}},
            {"final",
             {{"status", status},
              {"started", "2024-03-01T10:00:05Z"},
              {"finished", nullptr},
              {"modules", nlohmann::json::array()}}}}},
          {"errors", errors},
          {"warnings", warnings}};
}

struct Case {
  std::optional<std::string> amiboot;  // nullopt: no status file
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  std::string disabled;
  std::string status, extended, boot_code;
  int exit_code;
  bool finished;
};

TEST(CloudInitStatus, EachAmibootStateMapsToCloudInitsStatusAndExitCode) {
  const Case cases[] = {
      {std::nullopt, {}, {}, "", "not started", "not started", "enabled-by-generator", 0, false},
      {"running", {}, {}, "", "running", "running", "enabled-by-generator", 0, false},
      {"running", {}, {"w"}, "", "running", "degraded running", "enabled-by-generator", 2, false},
      {"running", {"e"}, {}, "", "error", "error - running", "enabled-by-generator", 1, false},
      {"done", {}, {}, "", "done", "done", "enabled-by-generator", 0, true},
      {"done", {}, {"w"}, "", "done", "degraded done", "enabled-by-generator", 2, true},
      {"error",
       {"runcmd: exit 1"},
       {"w"},
       "",
       "error",
       "error - done",
       "enabled-by-generator",
       1,
       true},
      {"error", {}, {}, "", "error", "error - done", "enabled-by-generator", 1, true},
      {"disabled",
       {},
       {},
       "marker-file",
       "disabled",
       "disabled",
       "disabled-by-marker-file",
       0,
       true},
      {"disabled",
       {},
       {},
       "kernel-command-line",
       "disabled",
       "disabled",
       "disabled-by-kernel-command-line",
       0,
       true},
      {std::nullopt,
       {},
       {},
       "marker-file",
       "disabled",
       "disabled",
       "disabled-by-marker-file",
       0,
       true},
      {"not-on-ec2",
       {"metadata: timed out"},
       {},
       "",
       "disabled",
       "disabled",
       "disabled-by-generator",
       0,
       true},
  };
  for (const auto& c : cases) {
    std::optional<nlohmann::json> doc;
    if (c.amiboot) {
      doc = amiboot_doc(*c.amiboot, c.errors, c.warnings);
    }
    auto s = cloud_init_status(doc, c.disabled);
    std::string what = c.amiboot.value_or("(none)") + " errors=" + std::to_string(c.errors.size()) +
                       " warnings=" + std::to_string(c.warnings.size()) + " disabled=" + c.disabled;
    EXPECT_EQ(s.status, c.status) << what;
    EXPECT_EQ(s.extended_status, c.extended) << what;
    EXPECT_EQ(s.boot_status_code, c.boot_code) << what;
    EXPECT_EQ(s.exit_code, c.exit_code) << what;
    EXPECT_EQ(s.finished(), c.finished) << what;
  }
}

TEST(CloudInitStatus, LongTabularOutputAsCloudInitPrintsIt) {
  auto doc = amiboot_doc("done", {}, {"unknown key 'foo'", "apt_update is deprecated"});
  auto s = cloud_init_status(doc, "");
  EXPECT_EQ(format_status_tabular(s, false, doc), "status: done\n");
  EXPECT_EQ(format_status_tabular(s, true, doc),
            "status: done\n"
            "extended_status: degraded done\n"
            "boot_status_code: enabled-by-generator\n"
            "last_update: Fri, 01 Mar 2024 10:00:05 +0000\n"
            "detail: DataSourceEc2\n"
            "errors: []\n"
            "recoverable_errors:\n"
            "DEPRECATED:\n"
            "\t- apt_update is deprecated\n"
            "WARNING:\n"
            "\t- unknown key 'foo'\n"
            "modules:\n"
            "\t- init/bootcmd: ok (3 ms)\n"
            "\t- init/users: skipped (not configured)\n");
  EXPECT_EQ(s.exit_code, 2);
}

TEST(CloudInitStatus, ErrorsAreListedTabbed) {
  auto doc = amiboot_doc("error", {"runcmd: exit status 3", "user-data:2:1: bad"});
  auto s = cloud_init_status(doc, "");
  auto text = format_status_tabular(s, true, doc);
  EXPECT_NE(text.find("errors:\n\t- runcmd: exit status 3\n\t- user-data:2:1: bad\n"
                      "recoverable_errors: {}\n"),
            std::string::npos)
      << text;
}

TEST(CloudInitStatus, JsonHasCloudInitsKeysAndTheV1Stages) {
  auto doc = amiboot_doc("done");
  auto s = cloud_init_status(doc, "");
  auto v1 = compat_status_v1(nullptr, "init", doc, 5.0, true);
  auto j = status_json(s, doc, v1);
  for (const char* key : {"boot_status_code", "datasource", "detail", "errors", "extended_status",
                          "last_update", "recoverable_errors", "status", "init", "init-local",
                          "modules-config", "modules-final", "stage"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["datasource"], "ec2");  // cloud-init's lowercased, unprefixed name
  EXPECT_EQ(j["status"], "done");
  EXPECT_EQ(j["modules"].size(), 2u);
  auto yaml = to_yaml_document(j);
  EXPECT_EQ(yaml.rfind("---\n", 0), 0u);
  EXPECT_NE(yaml.find("status: done\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("errors: []\n"), std::string::npos) << yaml;
}

TEST(CloudInitCommand, AnythingElseSaysAmibootDoesNotProvideIt) {
  for (const char* command : {"init", "modules", "single", "devel", "collect-logs"}) {
    ::testing::internal::CaptureStderr();
    int rc = cloud_init_main({command});
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(rc, 1) << command;
    EXPECT_EQ(err, std::string("cloud-init ") + command +
                       ": not provided by amiboot's compatibility command; amiboot runs its "
                       "stages from systemd (amiboot.service, amiboot-final.service)\n");
  }
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(cloud_init_main({"analyze", "dump"}), 1);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("cloud-init analyze dump: not provided"),
            std::string::npos);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(cloud_init_main({}), 2);
  ::testing::internal::GetCapturedStderr();
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(cloud_init_main({"--version"}), 0);
  EXPECT_EQ(
      ::testing::internal::GetCapturedStdout(),
      std::string("cloud-init ") + kCloudInitCompatVersion + " (amiboot " AMIBOOT_VERSION ")\n");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(cloud_init_main({"status", "--format", "xml"}), 2);
  ::testing::internal::GetCapturedStderr();
}

TEST(CloudInitFiles, StatusJsonHasCloudInitsShapeThroughBothStages) {
  auto fresh = compat_status_v1(nullptr, "init", nullptr, 3.5, false);
  const auto& v1 = fresh["v1"];
  EXPECT_EQ(v1["stage"], "init");
  EXPECT_EQ(v1["init"]["start"], 3.5);
  EXPECT_TRUE(v1["init"]["finished"].is_null());
  for (const char* stage : {"init-local", "modules-config", "modules-final"}) {
    EXPECT_EQ(v1[stage], nlohmann::json({{"errors", nlohmann::json::array()},
                                         {"recoverable_errors", nlohmann::json::object()},
                                         {"start", nullptr},
                                         {"finished", nullptr}}))
        << stage;
  }
  EXPECT_TRUE(v1["datasource"].is_null());

  auto init_doc = amiboot_doc("running", {"user-data:1:1: bad"}, {"w1"});
  auto after_init = compat_status_v1(fresh, "init", init_doc, 4.25, true);
  EXPECT_TRUE(after_init["v1"]["stage"].is_null());
  EXPECT_EQ(after_init["v1"]["datasource"], "DataSourceEc2");
  EXPECT_EQ(after_init["v1"]["init"]["finished"], 4.25);
  EXPECT_EQ(after_init["v1"]["init"]["errors"], nlohmann::json({"user-data:1:1: bad"}));
  EXPECT_EQ(after_init["v1"]["init"]["recoverable_errors"], nlohmann::json({{"WARNING", {"w1"}}}));
  EXPECT_EQ(after_init["v1"]["modules-config"]["start"], 3.5);
  EXPECT_EQ(after_init["v1"]["modules-config"]["finished"], 4.25);

  auto started = compat_status_v1(after_init, "final", nullptr, 9.0, false);
  EXPECT_EQ(started["v1"]["stage"], "modules-final");
  auto final_doc =
      amiboot_doc("error", {"user-data:1:1: bad", "runcmd: exit status 1"}, {"w1", "w2"});
  auto done = compat_status_v1(started, "final", final_doc, 12.0, true);
  EXPECT_EQ(done["v1"]["modules-final"]["start"], 9.0);
  EXPECT_EQ(done["v1"]["modules-final"]["finished"], 12.0);
  // Each error once, with the stage that raised it.
  EXPECT_EQ(done["v1"]["modules-final"]["errors"], nlohmann::json({"runcmd: exit status 1"}));
  EXPECT_EQ(done["v1"]["modules-final"]["recoverable_errors"],
            nlohmann::json({{"WARNING", {"w2"}}}));
  EXPECT_EQ(done["v1"]["init"]["errors"], nlohmann::json({"user-data:1:1: bad"}));

  EXPECT_EQ(compat_result(done),
            nlohmann::json({{"v1",
                             {{"datasource", "DataSourceEc2"},
                              {"errors", {"user-data:1:1: bad", "runcmd: exit status 1"}}}}}));
}

TEST(CloudInitFiles, BootFinishedAsCcFinalMessageWritesIt) {
  EXPECT_EQ(boot_finished_text(
                12.345, std::chrono::system_clock::time_point(std::chrono::seconds(1709287205))),
            std::string("12.35 - Fri, 01 Mar 2024 10:00:05 +0000 - v. ") + kCloudInitCompatVersion +
                " (amiboot " AMIBOOT_VERSION ")\n");
}

TEST(CloudInitFiles, DatasourceNames) {
  EXPECT_EQ(cloud_init_datasource("imds"), "DataSourceEc2");
  EXPECT_EQ(cloud_init_datasource("seed:/srv/seed"), "DataSourceNoCloud [seed=/srv/seed]");
  EXPECT_TRUE(cloud_init_datasource(nullptr).is_null());
}

TEST(CloudInitFiles, NothingWithoutTheCompatPackage) {
  RecordingSystem system;  // any write would fail the test
  compat_stage_started(system, "init");
  compat_stage_finished(system, "final", amiboot_doc("done"), false);
  EXPECT_TRUE(system.writes.empty());
}

TEST(CloudInitFiles, BothStagesWriteCloudInitsFilesWithTheMarker) {
  RecordingSystem system;
  system.add_file(kCloudInitCompatMarker, "");
  system.allow_writes("/var/lib/cloud");
  system.allow_writes("/run/cloud-init");
  system.allow_console();
  system.uptime = 5.0;
  compat_stage_started(system, "init");
  EXPECT_EQ(system.symlinks.at("/run/cloud-init/status.json"),
            "../../var/lib/cloud/data/status.json");
  auto status = nlohmann::json::parse(system.files.at("/var/lib/cloud/data/status.json"));
  EXPECT_EQ(status["v1"]["stage"], "init");
  EXPECT_EQ(system.console_lines.size(), 1u);

  system.uptime = 6.0;
  compat_stage_finished(system, "init", amiboot_doc("running"), false);
  EXPECT_EQ(system.symlinks.at("/var/lib/cloud/instance"), "/var/lib/cloud/instances/i-1");
  EXPECT_EQ(system.files.at("/var/lib/cloud/data/instance-id"), "i-1\n");
  EXPECT_EQ(system.files.count("/var/lib/cloud/data/result.json"), 0u);
  EXPECT_EQ(system.files.count("/var/lib/cloud/instances/i-1/boot-finished"), 0u);

  system.uptime = 7.0;
  compat_stage_started(system, "final");
  system.uptime = 8.5;
  compat_stage_finished(system, "final", amiboot_doc("done"), false);
  status = nlohmann::json::parse(system.files.at("/var/lib/cloud/data/status.json"));
  EXPECT_EQ(status["v1"]["init"]["start"], 5.0);
  EXPECT_EQ(status["v1"]["modules-final"]["start"], 7.0);
  EXPECT_EQ(status["v1"]["modules-final"]["finished"], 8.5);
  EXPECT_EQ(nlohmann::json::parse(system.files.at("/var/lib/cloud/data/result.json")),
            nlohmann::json(
                {{"v1", {{"datasource", "DataSourceEc2"}, {"errors", nlohmann::json::array()}}}}));
  EXPECT_EQ(system.symlinks.at("/run/cloud-init/result.json"),
            "../../var/lib/cloud/data/result.json");
  EXPECT_EQ(system.files.at("/var/lib/cloud/instances/i-1/boot-finished").rfind("8.50 - ", 0), 0u);
  // boot-finished comes before result.json, which is what says "done".
  std::vector<std::string> order;
  for (const auto& w : system.writes) {
    order.push_back(w.path);
  }
  auto bf = std::find(order.begin(), order.end(), "/var/lib/cloud/instances/i-1/boot-finished");
  auto rj = std::find(order.begin(), order.end(), "/var/lib/cloud/data/result.json");
  EXPECT_LT(bf, rj);
}

}  // namespace
}  // namespace amiboot
