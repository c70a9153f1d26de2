// SPDX-License-Identifier: Apache-2.0
// write_files `source` over real HTTP: a cpp-httplib server on loopback, the
// executor on HostSystem under a sandbox root, and the agent binary with the
// fake IMDS. What is checked: the fetched bytes land with their mode, the
// headers arrive, a failed fetch falls back to `content` or leaves the old
// file alone, the size cap and the scheme of redirects hold, and the URL's
// query and the header values stay out of the output.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/executor.h"
#include "agent/system.h"
#include "tests/support/fake_imds.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

class FileServer {
 public:
  FileServer() {
    m_server.Get("/app.conf", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_authorization.push_back(req.get_header_value("Authorization"));
      m_queries.push_back(req.get_param_value("sig"));
      if (req.get_header_value("Authorization") != "Bearer t0ken") {
        res.status = 403;
        return;
      }
      res.set_content("fetched over http\n", "text/plain");
    });
    for (const char* counted : {"/one", "/two"}) {
      m_server.Get(counted, [this](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(m_mutex);
        ++m_requests[req.path];
        res.set_content("from " + req.path + "\n", "text/plain");
      });
    }
    m_server.Get("/missing",
                 [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
    m_server.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(2 << 20, 'x'), "application/octet-stream");
    });
    m_server.Get("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/app.conf?sig=s3cr3t");
    });
    m_server.Get("/to-file", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("file:///etc/passwd");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~FileServer() {
    m_server.stop();
    m_thread.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
  }
  std::vector<std::string> authorization() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_authorization;
  }
  std::vector<std::string> queries() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_queries;
  }
  /// GETs of /one and /two so far.
  int requests(const std::string& path) {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_requests[path];
  }

 private:
  httplib::Server m_server;
  std::thread m_thread;
  std::mutex m_mutex;
  int m_port = 0;
  std::vector<std::string> m_authorization;
  std::vector<std::string> m_queries;
  std::map<std::string, int> m_requests;
};

ExecOutcome run_fetch(const TempDir& root, FetchFile fetch) {
  HostSystem system(root.path());
  ExecContext ctx{system, "i-0123456789abcdef0", {{"AMIBOOT_MODULE", "write_files"}}};
  return execute({std::move(fetch)}, ctx);
}

FetchFile app_conf(const std::string& url) {
  return FetchFile{.path = "/etc/app.conf",
                   .url = url,
                   .headers = {{"Authorization", "Bearer t0ken"}},
                   .mode = 0640,
                   .owner = "root:root",
                   .label = "write_files[0]",
                   .attempts = 1};
}

TEST(WriteFilesSource, TheFetchedBytesLandWithTheHeadersSent) {
  FileServer server;
  TempDir root;
  auto outcome = run_fetch(root, app_conf(server.url("/app.conf?sig=s3cr3t")));
  ASSERT_TRUE(outcome.ok()) << outcome.errors[0];
  EXPECT_EQ(read_file(root / "etc/app.conf"), "fetched over http\n");
  struct stat st;
  ASSERT_EQ(stat((root / "etc/app.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(server.authorization(), std::vector<std::string>{"Bearer t0ken"});
  EXPECT_EQ(server.queries(), std::vector<std::string>{"s3cr3t"});
}

TEST(WriteFilesSource, ARedirectOnTheSameSchemeIsFollowed) {
  FileServer server;
  TempDir root;
  auto outcome = run_fetch(root, app_conf(server.url("/moved")));
  ASSERT_TRUE(outcome.ok()) << outcome.errors[0];
  EXPECT_EQ(read_file(root / "etc/app.conf"), "fetched over http\n");
}

TEST(WriteFilesSource, AFailedFetchLeavesTheOldFileOrWritesTheFallback) {
  FileServer server;
  TempDir root;
  write_file(root / "etc/app.conf", "old\n");
  for (const char* path : {"/missing", "/to-file", "/big"}) {
    FetchFile fetch = app_conf(server.url(path));
    fetch.max_bytes = 1 << 20;
    auto outcome = run_fetch(root, fetch);
    ASSERT_EQ(outcome.errors.size(), 1u) << path;
    EXPECT_NE(outcome.errors[0].find("could not fetch from 127.0.0.1:"), std::string::npos)
        << outcome.errors[0];
    EXPECT_NE(outcome.errors[0].find("/etc/app.conf left unchanged"), std::string::npos)
        << outcome.errors[0];
    EXPECT_EQ(read_file(root / "etc/app.conf"), "old\n") << path;
  }
  // Without the header the server says 403: the content given is written.
  FetchFile fetch = app_conf(server.url("/app.conf"));
  fetch.headers.clear();
  fetch.fallback = "fallback\n";
  auto outcome = run_fetch(root, fetch);
  ASSERT_TRUE(outcome.ok()) << outcome.errors[0];
  EXPECT_EQ(read_file(root / "etc/app.conf"), "fallback\n");
  // Nothing listening: the same.
  fetch.url = "http://127.0.0.1:1/nothing";
  fetch.fallback.reset();
  outcome = run_fetch(root, fetch);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(read_file(root / "etc/app.conf"), "fallback\n");
}

TEST(WriteFilesSource, TheAgentFetchesFromUserDataWithoutShowingTheSecrets) {
  FileServer server;
  FakeImds imds;
  TempDir root;
  write_file(root / "etc/kept", "kept\n");
  write_file(root / "srv/seed/local", "from a file\n");
  imds.set_user_data(
      "#cloud-config\n"
      "write_files:\n"
      "  - path: /etc/app.conf\n"
      "    source:\n"
      "      uri: '" +
      server.url("/app.conf?sig=s3cr3t") +
      "'\n"
      "      headers: {Authorization: 'Bearer t0ken'}\n"
      "    permissions: '0600'\n"
      "  - path: /etc/local\n"
      "    source: {uri: 'file:///srv/seed/local'}\n");
  auto r = run({amiboot_binary(), "run", "--root", root.path(), "--imds", imds.url()},
               {{"AMIBOOT_LOG", "stderr"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(root / "etc/app.conf"), "fetched over http\n");
  EXPECT_EQ(read_file(root / "etc/local"), "from a file\n");
  EXPECT_EQ(read_file(root / "etc/kept"), "kept\n");
  for (const char* secret : {"s3cr3t", "t0ken"}) {
    EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << secret << "\n" << r.err;
    EXPECT_EQ(read_file(root / "run/amiboot/status.json").find(secret), std::string::npos);
  }
  // The dry run (on a fresh root: this one has run its instance) shows the
  // fetch, without the query or the header's value.
  TempDir fresh;
  auto dry =
      run({amiboot_binary(), "run", "--dry-run", "--root", fresh.path(), "--imds", imds.url()},
          {{"AMIBOOT_LOG", "stderr"}});
  EXPECT_NE(dry.out.find("/etc/app.conf from http://127.0.0.1:"), std::string::npos) << dry.out;
  for (const char* secret : {"s3cr3t", "t0ken"}) {
    EXPECT_EQ((dry.out + dry.err).find(secret), std::string::npos) << secret << "\n" << dry.out;
  }
}

// Fetched bytes count against amiboot.limits.write_files_bytes with the
// entries' own content: all the sources are fetched before any file is
// written, so past the limit none of write_files' files is, and the error
// names the entry and the setting.
TEST(WriteFilesSource, FetchedBytesCountAgainstTheWriteFilesLimitAndNothingIsHalfWritten) {
  FileServer server;
  FakeImds imds;
  imds.set_user_data(
      "#cloud-config\nwrite_files:\n  - path: /etc/inline\n    content: inline\n"
      "  - path: /etc/big1\n    source: {uri: '" +
      server.url("/big") + "'}\n  - path: /etc/big2\n    source: {uri: '" + server.url("/big") +
      "'}\n");
  auto agent = [&](const TempDir& root) {
    return run({amiboot_binary(), "run", "--root", root.path(), "--imds", imds.url()},
               {{"AMIBOOT_LOG", "stderr"}});
  };
  // 3 MiB: "inline" and the first 2 MiB fit, the second 2 MiB does not.
  TempDir root;
  write_file(root / "etc/amiboot/amiboot.yaml",
             "amiboot:\n  limits:\n    write_files_bytes: " + std::to_string(3 << 20) + "\n");
  auto r = agent(root);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("write_files[2]: with what http://127.0.0.1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("passes 3 MiB (amiboot.limits.write_files_bytes); none of this module's "
                       "files was written"),
            std::string::npos)
      << r.err;
  for (const char* path : {"etc/inline", "etc/big1", "etc/big2"}) {
    EXPECT_FALSE(std::filesystem::exists(root / path)) << path;
  }
  // 5 MiB: everything fits and lands.
  TempDir roomy;
  write_file(roomy / "etc/amiboot/amiboot.yaml",
             "amiboot:\n  limits:\n    write_files_bytes: " + std::to_string(5 << 20) + "\n");
  auto ok = agent(roomy);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(read_file(roomy / "etc/inline"), "inline");
  EXPECT_EQ(read_file(roomy / "etc/big1").size(), std::size_t{2} << 20);
  EXPECT_EQ(read_file(roomy / "etc/big2").size(), std::size_t{2} << 20);
}

// The budget spans both stages: the final stage's deferred entries get
// what the init stage's entries left, in one process or two.
TEST(WriteFilesSource, DeferredEntriesShareTheLimitWithWhatTheInitStageFetched) {
  FileServer server;
  FakeImds imds;
  imds.set_user_data("#cloud-config\nwrite_files:\n  - path: /etc/now\n    source: {uri: '" +
                     server.url("/big") +
                     "'}\n  - path: /etc/later\n    defer: true\n    source: {uri: '" +
                     server.url("/big") + "'}\n");
  // 3 MiB: the init stage's 2 MiB fit, the deferred 2 MiB more do not.
  for (const char* how : {"one process", "two processes"}) {
    SCOPED_TRACE(how);
    TempDir root;
    write_file(root / "etc/amiboot/amiboot.yaml",
               "amiboot:\n  limits:\n    write_files_bytes: " + std::to_string(3 << 20) + "\n");
    std::vector<std::vector<std::string>> stages = {{}};
    if (std::string(how) == "two processes") {
      stages = {{"--stage", "init"}, {"--stage", "final"}};
    }
    CommandResult r;
    for (const auto& stage : stages) {
      std::vector<std::string> argv = {amiboot_binary(), "run",    "--root",
                                       root.path(),      "--imds", imds.url()};
      argv.insert(argv.end(), stage.begin(), stage.end());
      r = run(argv, {{"AMIBOOT_LOG", "stderr"}});
    }
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("write_files[1]: with what http://127.0.0.1:"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("returned and the 2 MiB earlier entries of this instance fetched, the "
                         "write_files content passes 3 MiB (amiboot.limits.write_files_bytes)"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(read_file(root / "etc/now").size(), std::size_t{2} << 20);
    EXPECT_FALSE(std::filesystem::exists(root / "etc/later"));
  }
  // 4 MiB: both land.
  TempDir roomy;
  write_file(roomy / "etc/amiboot/amiboot.yaml",
             "amiboot:\n  limits:\n    write_files_bytes: " + std::to_string(4 << 20) + "\n");
  auto ok = run({amiboot_binary(), "run", "--root", roomy.path(), "--imds", imds.url()},
                {{"AMIBOOT_LOG", "stderr"}});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(read_file(roomy / "etc/later").size(), std::size_t{2} << 20);
}

// After a kill -9 in the middle of write_files, the rerun fetches no
// source of an entry that completed: the sources are fetched ahead of the
// entries, and a completed one is not written again, so its download would
// only cost the boot time and the server a request.
TEST(WriteFilesSource, ARerunAfterAKillFetchesNoSourceOfACompletedEntryAgain) {
  FileServer server;
  FakeImds imds;
  TempDir root;
  TempDir logs;
  imds.set_user_data("#cloud-config\nwrite_files:\n  - path: /etc/first\n    source: {uri: '" +
                     server.url("/one") +
                     "'}\n  - path: /etc/stuck.log\n    append: true\n    content: x\n"
                     "  - path: /etc/last\n    source: {uri: '" +
                     server.url("/two") + "'}\n");
  // The append reads the old file first: a FIFO holds it there, between
  // the completed first entry and the last one, until the kill.
  std::filesystem::create_directories(root / "etc");
  ASSERT_EQ(mkfifo((root / "etc/stuck.log").c_str(), 0600), 0);
  pid_t pid = start_agent(root.path(), imds.url(), logs / "log");
  int writer = -1;
  for (int i = 0; i < 6000 && writer < 0; ++i) {  // up to a minute
    // Succeeds once the agent has the FIFO open for reading.
    writer = open((root / "etc/stuck.log").c_str(), O_WRONLY | O_NONBLOCK);
    if (writer < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_GE(writer, 0) << "the agent never read the FIFO: " << read_file(logs / "log");
  close(writer);
  ASSERT_EQ(read_file(root / "etc/first"), "from /one\n");
  ASSERT_FALSE(exists(root / "etc/last"));
  EXPECT_EQ(server.requests("/one"), 1);
  EXPECT_EQ(server.requests("/two"), 1);
  std::filesystem::remove(root / "etc/stuck.log");

  auto r = run({amiboot_binary(), "run", "--root", root.path(), "--imds", imds.url()},
               {{"AMIBOOT_LOG", "stderr"}});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // the interrupted append is named, not run again
  EXPECT_NE(r.err.find("write_files[1]: was under way when an earlier run of amiboot died"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(read_file(root / "etc/last"), "from /two\n");
  EXPECT_FALSE(exists(root / "etc/stuck.log"));
  EXPECT_EQ(server.requests("/one"), 1) << "the completed entry's source was fetched again";
  EXPECT_EQ(server.requests("/two"), 2);
  // What the skipped entry brought still counts against write_files_bytes.
  auto fetched = nlohmann::json::parse(
      read_file(root / "var/lib/amiboot/instances/i-0123456789abcdef0/fetched.json"));
  EXPECT_EQ(fetched["amiboot.limits.write_files_bytes"],
            (nlohmann::json{{"write_files[0]", 10}, {"write_files[2]", 10}}));
}

}  // namespace
}  // namespace amiboot::testing
