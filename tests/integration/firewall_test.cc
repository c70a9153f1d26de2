// SPDX-License-Identifier: Apache-2.0
// The firewall with real packets: two network namespaces joined by a veth
// pair, TCP listeners in the server namespace, the real amiboot binary run
// inside it (`ip netns exec`, so the rules land there and not on the host),
// and connections from two client addresses in the other namespace.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/core/config.h"
#include "modules/firewall.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kServer4 = "10.231.0.1";
constexpr const char* kServer6 = "fd00:231::1";
// Two addresses per family on the client: one inside a rule's `from`, one outside.
constexpr const char* kInside4 = "10.231.0.2";
constexpr const char* kOutside4 = "10.231.0.3";
constexpr const char* kInside6 = "fd00:231::2";
constexpr const char* kOutside6 = "fd00:231::3";

bool have_program(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if (access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) {
      return true;
    }
  }
  return false;
}

/// Runs `fn` on a thread that has entered the namespace; sockets it opens
/// stay in that namespace after the thread is gone.
int in_namespace(const std::string& ns, const std::function<int()>& fn) {
  int result = -1;
  std::thread t([&] {
    int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return;
    }
    bool entered = setns(fd, CLONE_NEWNET) == 0;
    close(fd);
    if (entered) {
      result = fn();
    }
  });
  t.join();
  return result;
}

sockaddr_storage address(const std::string& ip, int port, socklen_t& len) {
  sockaddr_storage ss{};
  if (ip.find(':') == std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
    len = sizeof *a;
  }
  return ss;
}

/// A server namespace and a client namespace joined by a veth pair, removed
/// (with everything in them) on destruction, whatever the test did.
class Namespaces {
 public:
  Namespaces() {
    static std::atomic<int> counter{0};
    std::string suffix = std::to_string(getpid()) + "-" + std::to_string(counter++);
    m_server = "amiboot-fw-srv-" + suffix;
    m_client = "amiboot-fw-cli-" + suffix;
  }
  ~Namespaces() {
    for (int fd : m_listeners) {
      close(fd);
    }
    for (const auto& ns : m_created) {
      run({"ip", "netns", "delete", ns});
    }
  }
  Namespaces(const Namespaces&) = delete;
  Namespaces& operator=(const Namespaces&) = delete;

  /// An empty string when the pair is up, else why not.
  std::string create() {
    remove_leftovers();
    for (const auto& ns : {m_server, m_client}) {
      auto r = run({"ip", "netns", "add", ns});
      if (r.exit_code != 0) {
        return "ip netns add failed: " + r.err;
      }
      m_created.push_back(ns);
    }
    // nodad: an address still in duplicate detection cannot be bound or
    // reached for a second or two, which would make the test flaky.
    std::vector<std::vector<std::string>> steps = {
        {"ip", "-n", m_server, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
         "netns", m_client},
        {"ip", "-n", m_server, "link", "set", "lo", "up"},
        {"ip", "-n", m_client, "link", "set", "lo", "up"},
        {"ip", "-n", m_server, "addr", "add", std::string(kServer4) + "/24", "dev", "eth0"},
        {"ip", "-n", m_server, "addr", "add", std::string(kServer6) + "/64", "dev", "eth0",
         "nodad"},
        {"ip", "-n", m_client, "addr", "add", std::string(kInside4) + "/24", "dev", "eth0"},
        {"ip", "-n", m_client, "addr", "add", std::string(kOutside4) + "/24", "dev", "eth0"},
        {"ip", "-n", m_client, "addr", "add", std::string(kInside6) + "/64", "dev", "eth0",
         "nodad"},
        {"ip", "-n", m_client, "addr", "add", std::string(kOutside6) + "/64", "dev", "eth0",
         "nodad"},
        {"ip", "-n", m_server, "link", "set", "eth0", "up"},
        {"ip", "-n", m_client, "link", "set", "eth0", "up"},
    };
    for (const auto& argv : steps) {
      auto r = run(argv);
      if (r.exit_code != 0) {
        return argv[3] + " " + argv[4] + " failed: " + r.err;
      }
    }
    return "";
  }

  /// Namespaces of test processes that were killed (a ctest timeout) before
  /// their destructor ran; the name carries the pid.
  static void remove_leftovers() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/run/netns", ec)) {
      std::string name = entry.path().filename().string();
      if (name.rfind("amiboot-fw-", 0) != 0) {
        continue;
      }
      // "amiboot-fw-srv-PID-N" or "amiboot-fw-cli-PID-N"
      pid_t pid = name.size() > 15 ? static_cast<pid_t>(std::atol(name.c_str() + 15)) : 0;
      if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) {
        run({"ip", "netns", "delete", name});
      }
    }
  }

  const std::string& server() const { return m_server; }
  const std::string& client() const { return m_client; }

  /// A dual-stack TCP listener in the server namespace. The kernel finishes
  /// the handshake for the accept queue, so nothing needs to accept.
  bool listen_on(int port) {
    int fd = in_namespace(m_server, [&] {
      int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int zero = 0;
      int one = 1;
      setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
      setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      socklen_t len;
      auto addr = address("::", port, len);
      if (bind(s, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(s, 64) != 0) {
        close(s);
        return -1;
      }
      return s;
    });
    if (fd >= 0) {
      m_listeners.push_back(fd);
    }
    return fd >= 0;
  }

  /// True when a TCP connection from `from` (a client address) to `to`
  /// completes within a second; a dropped SYN times out.
  bool connects(const std::string& from, const std::string& to, int port) {
    return in_namespace(m_client, [&] {
             socklen_t len;
             auto source = address(from, 0, len);
             int s = socket(source.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
             if (bind(s, reinterpret_cast<sockaddr*>(&source), len) != 0) {
               close(s);
               return 0;
             }
             auto target = address(to, port, len);
             int rc = connect(s, reinterpret_cast<sockaddr*>(&target), len);
             bool ok = rc == 0;
             if (rc != 0 && errno == EINPROGRESS) {
               pollfd p{s, POLLOUT, 0};
               int err = -1;
               socklen_t err_len = sizeof err;
               ok = poll(&p, 1, 1000) == 1 &&
                    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &err_len) == 0 && err == 0;
             }
             close(s);
             return ok ? 1 : 0;
           }) == 1;
  }

  CommandResult in_server(std::vector<std::string> argv, const std::string& input = "") {
    argv.insert(argv.begin(), {"ip", "netns", "exec", m_server});
    return run(argv, {}, input);
  }

  std::string ruleset() { return in_server({"nft", "list", "ruleset"}).out; }

 private:
  std::string m_server;
  std::string m_client;
  std::vector<std::string> m_created;
  std::vector<int> m_listeners;
};

class FirewallNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "needs root for network namespaces and nftables";
    }
    for (const char* program : {"ip", "nft"}) {
      if (!have_program(program)) {
        GTEST_SKIP() << program << " is not installed (tests/support/install-deps.sh installs it)";
      }
    }
    std::string why = ns.create();
    if (!why.empty()) {
      GTEST_SKIP() << "no network namespaces here: " << why;
    }
    write_file(seed / "meta-data", "instance-id: i-0f1e2d3c4b5a69788\nlocal-hostname: fw\n");
    for (int port : {22, 7070, 8080, 9090}) {
      ASSERT_TRUE(ns.listen_on(port)) << port;
    }
    // Without rules every client address connects, so the failures the tests
    // expect are the firewall's. Retried: in the first second or so of a
    // fresh link, neighbour discovery can lose a solicitation.
    for (const auto& [from, to] : {std::pair{kInside4, kServer4}, std::pair{kOutside4, kServer4},
                                   std::pair{kInside6, kServer6}, std::pair{kOutside6, kServer6}}) {
      bool connected = false;
      for (int attempt = 0; attempt < 5 && !connected; ++attempt) {
        connected = ns.connects(from, to, 7070);
      }
      ASSERT_TRUE(connected) << from << " cannot reach " << to << " without any rules";
    }
  }

  /// amiboot run inside the server namespace, the user data from a seed
  /// directory (no IMDS needed in there).
  CommandResult amiboot_run(const std::string& user_data, bool opt_in = true) {
    write_file(seed / "user-data", user_data);
    // Inside the test's namespace the rules may land in the kernel.
    if (opt_in) {
      write_file(root / "etc/amiboot/amiboot.yaml.d/90-test.yaml",
                 "amiboot:\n  firewall: {apply_under_root: true}\n");
    }
    return run({"ip", "netns", "exec", ns.server(), amiboot_binary(), "run", "--root", root.path(),
                "--seed", seed.path()},
               {{"AMIBOOT_LOG", "stderr"}});
  }
  // A reboot as far as amiboot can tell: /run is a tmpfs.
  void reboot() { fs::remove_all(root / "run"); }
  nlohmann::json firewall_record() {
    auto doc = nlohmann::json::parse(read_file(root / "run/amiboot/status.json"));
    for (const auto& m : doc["stages"]["init"]["modules"]) {
      if (m["name"] == "firewall") {
        return m;
      }
    }
    return nullptr;
  }

  Namespaces ns;
  TempDir root;
  TempDir seed;
};

constexpr const char* kUserData = R"(#cloud-config
firewall:
  default_inbound: drop
  allow:
    - {port: 8080, proto: tcp}
    - {port: 9090, proto: tcp, from: [10.231.0.2/32, "fd00:231::2/128"], comment: first client}
)";

TEST_F(FirewallNetns, AllowedPortsConnectOverIpv4AndIpv6AndEverythingElseIsDropped) {
  auto r = amiboot_run(kUserData);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(firewall_record()["result"], "ok") << r.err;

  EXPECT_TRUE(ns.connects(kInside4, kServer4, 8080));
  EXPECT_TRUE(ns.connects(kInside6, kServer6, 8080));
  EXPECT_FALSE(ns.connects(kInside4, kServer4, 7070));
  EXPECT_FALSE(ns.connects(kInside6, kServer6, 7070));
  // `from`: the first client's addresses only.
  EXPECT_TRUE(ns.connects(kInside4, kServer4, 9090));
  EXPECT_FALSE(ns.connects(kOutside4, kServer4, 9090));
  EXPECT_TRUE(ns.connects(kInside6, kServer6, 9090));
  EXPECT_FALSE(ns.connects(kOutside6, kServer6, 9090));
  // SSH was not mentioned, and stays open.
  EXPECT_TRUE(ns.connects(kOutside4, kServer4, 22));
  EXPECT_TRUE(ns.connects(kOutside6, kServer6, 22));

  // The rules went into the namespace amiboot ran in, not the host's.
  EXPECT_NE(ns.ruleset().find("table inet amiboot {"), std::string::npos);
  EXPECT_EQ(run({"nft", "list", "tables"}).out.find("table inet amiboot"), std::string::npos);

  auto status = run({amiboot_binary(), "status", "--long", "--root", root.path()});
  EXPECT_NE(status.out.find("\n      8 rules active in nftables table inet amiboot, inbound "
                            "default drop\n"),
            std::string::npos)
      << status.out;
}

// The plan runs `nft -f` alone, without an `nft -c` first: it relies on the
// file being one transaction. Our own ruleset file with a rule the kernel
// refuses (a jump to a chain that does not exist: only the kernel finds
// that, at commit) fails whole: the table the last run left is still there,
// its delete undone, and the rules it had still hold.
TEST_F(FirewallNetns, ARulesetTheKernelRefusesLeavesTheRulesThatWereThere) {
  auto r = amiboot_run(kUserData);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string before = ns.ruleset();
  ASSERT_NE(before.find("table inet amiboot {"), std::string::npos) << before;
  std::string refused = read_file(root / "run/amiboot/firewall.nft") +
                        "add rule inet amiboot input tcp dport 7070 accept\n" +
                        "add rule inet amiboot input jump no_such_chain\n";
  auto applied = ns.in_server({"nft", "-f", "-"}, refused);
  EXPECT_NE(applied.exit_code, 0) << applied.err;
  EXPECT_NE(applied.err.find("no_such_chain"), std::string::npos) << applied.err;
  EXPECT_EQ(ns.ruleset(), before);
  EXPECT_FALSE(ns.connects(kInside4, kServer4, 7070));
  EXPECT_TRUE(ns.connects(kInside4, kServer4, 8080));
}

TEST_F(FirewallNetns, Ipv6NeighbourDiscoveryStaysAllowedWhenIcmpv6IsDenied) {
  auto r = amiboot_run(
      "#cloud-config\nfirewall:\n  deny:\n    - {proto: icmpv6}\n  allow:\n    - {port: 8080}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Forget every neighbour: the next connection has to solicit the
  // server's address, and the server has to take that solicitation in.
  ASSERT_EQ(run({"ip", "-n", ns.server(), "neigh", "flush", "all"}).exit_code, 0);
  ASSERT_EQ(run({"ip", "-n", ns.client(), "neigh", "flush", "all"}).exit_code, 0);
  EXPECT_TRUE(ns.connects(kInside6, kServer6, 8080));
  EXPECT_FALSE(ns.connects(kInside6, kServer6, 7070));
}

TEST_F(FirewallNetns, OtherTablesAreUntouchedAndDisablingRemovesOnlyOurs) {
  const std::string others =
      "table inet other {\n\tchain input {\n\t\ttype filter hook input priority 10; policy "
      "accept;\n\t\ttcp dport 7777 accept\n\t}\n}\ntable ip nat {\n\tchain postrouting {\n\t\ttype "
      "nat hook postrouting priority srcnat; policy accept;\n\t\toifname \"eth0\" masquerade\n\t}"
      "\n}\n";
  ASSERT_EQ(ns.in_server({"nft", "-f", "-"}, others).exit_code, 0);
  std::string before = ns.ruleset();
  std::string other = ns.in_server({"nft", "list", "table", "inet", "other"}).out;
  ASSERT_NE(other.find("tcp dport 7777 accept"), std::string::npos) << other;

  auto r = amiboot_run(kUserData);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string applied = ns.ruleset();
  EXPECT_NE(applied.find("table inet amiboot"), std::string::npos);
  EXPECT_EQ(ns.in_server({"nft", "list", "table", "inet", "other"}).out, other);
  // Every table that was there is still there, byte for byte, with ours
  // added.
  std::string without_ours = applied;
  auto start = without_ours.find("table inet amiboot {");
  ASSERT_NE(start, std::string::npos);
  auto end = without_ours.find("\n}\n", start);
  without_ours.erase(start, end + 3 - start);
  EXPECT_EQ(without_ours, before);

  reboot();
  r = amiboot_run("#cloud-config\nfirewall:\n  enabled: false\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ns.ruleset(), before);
  EXPECT_EQ(firewall_record()["summary"], "disabled: nftables table inet amiboot removed");
  EXPECT_TRUE(ns.connects(kOutside4, kServer4, 7070));

  // Disabled again, with no table of ours left: still fine, still nothing else touched.
  reboot();
  r = amiboot_run("#cloud-config\nfirewall:\n  enabled: false\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ns.ruleset(), before);
}

TEST_F(FirewallNetns, UnderRootNoRuleIsAppliedWithoutTheOptIn) {
  // An image build with --root must not firewall the machine it runs on.
  std::string before = ns.ruleset();
  auto r = amiboot_run(kUserData, /*opt_in=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ns.ruleset(), before);
  EXPECT_NE(r.err.find("skipped under --root"), std::string::npos) << r.err;
  EXPECT_TRUE(ns.connects(kOutside4, kServer4, 7070));
}

TEST_F(FirewallNetns, InvalidConfigNamesTheKeyAndLineAndChangesNoRule) {
  ASSERT_EQ(amiboot_run(kUserData).exit_code, 0);
  std::string before = ns.ruleset();
  ASSERT_NE(before.find("table inet amiboot"), std::string::npos);

  reboot();
  auto r = amiboot_run(
      "#cloud-config\nfirewall:\n  default_inbound: accept\n  allow:\n    - {port: 80}\n"
      "    - {port: 70000}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("user-data:6:14: firewall.allow[1].port: port 70000 is out of range "
                       "(1-65535)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ns.ruleset(), before);

  reboot();
  r = amiboot_run("#cloud-config\nfirewall:\n  allow:\n    - {port: 80, from: 10.0.0.0/33}\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("user-data:4:24: firewall.allow[0].from: '10.0.0.0/33' is not a valid "
                       "CIDR"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ns.ruleset(), before);
}

TEST_F(FirewallNetns, ApplyingTwiceGivesTheSameRuleset) {
  ASSERT_EQ(amiboot_run(kUserData).exit_code, 0);
  std::string first = ns.ruleset();
  reboot();
  auto r = amiboot_run(kUserData);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ns.ruleset(), first);
  // And the rules applied are the ones amiboot wrote down.
  EXPECT_EQ(fs::status(root / "run/amiboot/firewall.nft").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

// A reboot of the same instance: kernel rules and /run are gone; before any
// network is up, amiboot-firewall.service (`amiboot firewall-early`) puts
// the ruleset the last boot kept back in force, and the init stage, given
// the same config, does not call nft again.
TEST_F(FirewallNetns, TheKeptRulesetIsInForceBeforeTheInitStageOnAReboot) {
  auto boot1 = amiboot_run(kUserData);
  ASSERT_EQ(boot1.exit_code, 0) << boot1.err;
  ASSERT_NE(boot1.err.find("firewall: nft -f"), std::string::npos) << boot1.err;
  std::string first = ns.ruleset();
  fs::path kept = root / "var/lib/amiboot/firewall.nft";
  ASSERT_EQ(read_file(kept), read_file(root / "run/amiboot/firewall.nft"));
  EXPECT_EQ(fs::status(kept).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  reboot();
  ASSERT_EQ(ns.in_server({"nft", "flush", "ruleset"}).exit_code, 0);
  ASSERT_TRUE(ns.connects(kInside4, kServer4, 7070)) << "unfiltered after the reboot";
  auto early = ns.in_server({amiboot_binary(), "firewall-early", "--root", root.path()});
  ASSERT_EQ(early.exit_code, 0) << early.out << early.err;
  EXPECT_EQ(ns.ruleset(), first);
  EXPECT_FALSE(ns.connects(kInside4, kServer4, 7070));
  EXPECT_FALSE(ns.connects(kInside6, kServer6, 7070));
  EXPECT_TRUE(ns.connects(kInside4, kServer4, 8080));
  EXPECT_EQ(read_file(root / "run/amiboot/firewall-early.nft"), read_file(kept));

  // Same config: no second nft call (a changed ruleset would show: this one
  // from the test stays, where an nft -f would have replaced the table).
  ASSERT_EQ(ns.in_server({"nft", "add", "table", "inet", "amiboot-witness"}).exit_code, 0);
  std::string before_init = ns.ruleset();
  auto r = amiboot_run(kUserData);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(firewall_record()["summary"],
            "8 rules active in nftables table inet amiboot, inbound default drop (in force since "
            "before the network was up)");
  EXPECT_EQ(ns.ruleset(), before_init);
  // The log names each command it runs, as it did for the first boot's nft.
  EXPECT_EQ(r.err.find("firewall: nft -f"), std::string::npos) << r.err;
}

TEST_F(FirewallNetns, AChangedOrDroppedFirewallReplacesTheEarlyRuleset) {
  ASSERT_EQ(amiboot_run(kUserData).exit_code, 0);
  reboot();
  ASSERT_EQ(ns.in_server({"nft", "flush", "ruleset"}).exit_code, 0);
  ASSERT_EQ(ns.in_server({amiboot_binary(), "firewall-early", "--root", root.path()}).exit_code, 0);
  ASSERT_FALSE(ns.connects(kInside4, kServer4, 7070));
  // The user data now opens 7070 too: the init stage replaces the table.
  auto r = amiboot_run("#cloud-config\nfirewall:\n  allow:\n    - {port: 7070}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ns.connects(kInside4, kServer4, 7070));
  EXPECT_FALSE(ns.connects(kInside4, kServer4, 8080));
  EXPECT_FALSE(fs::exists(root / "run/amiboot/firewall-early.nft"));

  // And a boot whose user data has no firewall at all loses the kept one.
  reboot();
  ASSERT_EQ(ns.in_server({"nft", "flush", "ruleset"}).exit_code, 0);
  ASSERT_EQ(ns.in_server({amiboot_binary(), "firewall-early", "--root", root.path()}).exit_code, 0);
  ASSERT_FALSE(ns.connects(kInside4, kServer4, 8080));
  r = amiboot_run("#cloud-config\nbootcmd: [true]\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ns.ruleset().find("table inet amiboot"), std::string::npos) << ns.ruleset();
  EXPECT_TRUE(ns.connects(kInside4, kServer4, 8080));
  EXPECT_FALSE(fs::exists(root / "var/lib/amiboot/firewall.nft"));
  // The next boot has nothing to apply early.
  reboot();
  auto early = ns.in_server({amiboot_binary(), "firewall-early", "--root", root.path()});
  EXPECT_EQ(early.exit_code, 0) << early.err;
  EXPECT_FALSE(fs::exists(root / "run/amiboot/firewall-early.nft"));
}

// A kept ruleset nft refuses (edited by hand, or an nft that lost a feature
// with an upgrade) changes nothing in force and leaves no marker, so the
// init stage applies its own.
TEST_F(FirewallNetns, AKeptRulesetNftRefusesLeavesWhatWasThere) {
  ASSERT_EQ(amiboot_run(kUserData).exit_code, 0);
  std::string before = ns.ruleset();
  reboot();
  fs::path kept = root / "var/lib/amiboot/firewall.nft";
  write_file(kept, read_file(kept) + "add rule inet amiboot input jump no_such_chain\n");
  auto early = ns.in_server({amiboot_binary(), "firewall-early", "--root", root.path()});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.out.find("nft refused the kept ruleset"), std::string::npos) << early.out;
  EXPECT_EQ(ns.ruleset(), before);
  EXPECT_FALSE(fs::exists(root / "run/amiboot/firewall-early.nft"));
}

// The fallback's files, applied by hand with iptables-restore (amiboot picks
// it only where nft is missing): the same connections pass and fail.
TEST_F(FirewallNetns, IptablesFallbackAllowsAndDropsTheSameConnections) {
  for (const char* program : {"iptables-restore", "ip6tables-restore", "iptables"}) {
    if (!have_program(program)) {
      GTEST_SKIP() << program << " is not installed";
    }
  }
  auto parsed = parse_yaml(kUserData, "user-data");
  ASSERT_TRUE(parsed.ok());
  Diagnostics diags;
  auto config = decode_firewall(*parsed, diags);
  ASSERT_TRUE(config.has_value());
  auto apply = [&](bool jump_exists) {
    for (bool ipv6 : {false, true}) {
      std::string file = root / (ipv6 ? "rules6" : "rules4");
      write_file(file, render_iptables(*config, ipv6, jump_exists).text);
      std::string program = ipv6 ? "ip6tables-restore" : "iptables-restore";
      auto test = ns.in_server({program, "-w", "10", "--noflush", "--test", file});
      ASSERT_EQ(test.exit_code, 0) << test.err;
      auto r = ns.in_server({program, "-w", "10", "--noflush", file});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  };
  apply(false);
  EXPECT_TRUE(ns.connects(kInside4, kServer4, 8080));
  EXPECT_TRUE(ns.connects(kInside6, kServer6, 8080));
  EXPECT_FALSE(ns.connects(kInside4, kServer4, 7070));
  EXPECT_FALSE(ns.connects(kInside6, kServer6, 7070));
  EXPECT_TRUE(ns.connects(kInside4, kServer4, 9090));
  EXPECT_FALSE(ns.connects(kOutside4, kServer4, 9090));
  EXPECT_TRUE(ns.connects(kInside6, kServer6, 9090));
  EXPECT_FALSE(ns.connects(kOutside6, kServer6, 9090));
  EXPECT_TRUE(ns.connects(kOutside4, kServer4, 22));

  // A second apply in the same boot (the jump exists) changes nothing.
  std::string v4 = ns.in_server({"iptables", "-S"}).out;
  std::string v6 = ns.in_server({"ip6tables", "-S"}).out;
  apply(true);
  EXPECT_EQ(ns.in_server({"iptables", "-S"}).out, v4);
  EXPECT_EQ(ns.in_server({"ip6tables", "-S"}).out, v6);

  FirewallConfig disabled;
  disabled.enabled = false;
  for (bool ipv6 : {false, true}) {
    std::string file = root / "off";
    write_file(file, render_iptables(disabled, ipv6, true).text);
    auto r = ns.in_server(
        {ipv6 ? "ip6tables-restore" : "iptables-restore", "-w", "10", "--noflush", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (const char* program : {"iptables", "ip6tables"}) {
    EXPECT_EQ(ns.in_server({program, "-S"}).out,
              "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n");
  }
  EXPECT_TRUE(ns.connects(kOutside4, kServer4, 7070));
}

}  // namespace
}  // namespace amiboot::testing
