// SPDX-License-Identifier: Apache-2.0
// amiboot-fake-imds: the test fake IMDS as a program, for the demo, the bench
// and the e2e VM (forwarded to 169.254.169.254).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tests/support/fake_imds.h"

namespace {

constexpr const char* k_usage =
    "usage: amiboot-fake-imds --port N [--dir DIR] [--user-data FILE] [--instance-id ID]\n"
    "                         [--port-file FILE] [--latency-ms N]\n"
    "Serves a fake IMDSv2 on 127.0.0.1:N (0 = any free port) until SIGTERM or SIGINT.\n";

struct Args {
  int port = 0;
  std::string dir;
  std::string user_data_file;
  std::string instance_id;
  std::string port_file;
  int latency_ms = 0;
};

bool parse_args(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::cout << k_usage;
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::cerr << "amiboot-fake-imds: " << flag << " needs a value\n" << k_usage;
      return false;
    }
    const std::string value = argv[++i];
    if (flag == "--port") {
      char* end = nullptr;
      const long port = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || port < 0 || port > 65535) {
        std::cerr << "amiboot-fake-imds: --port wants a number in 0..65535, not \"" << value
                  << "\"\n";
        return false;
      }
      args.port = static_cast<int>(port);
    } else if (flag == "--dir") {
      args.dir = value;
    } else if (flag == "--user-data") {
      args.user_data_file = value;
    } else if (flag == "--instance-id") {
      args.instance_id = value;
    } else if (flag == "--port-file") {
      args.port_file = value;
    } else if (flag == "--latency-ms") {
      char* end = nullptr;
      const long ms = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || ms < 0 || ms > 60000) {
        std::cerr << "amiboot-fake-imds: --latency-ms wants a number in 0..60000\n";
        return false;
      }
      args.latency_ms = static_cast<int>(ms);
    } else {
      std::cerr << "amiboot-fake-imds: unknown option " << flag << "\n" << k_usage;
      return false;
    }
  }
  return true;
}

bool read_whole_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return false;
  }
  std::ostringstream body;
  body << in.rdbuf();
  out = body.str();
  return true;
}

// Written to a temporary name and renamed, so a script polling for the file
// never reads a half-written port.
bool write_port_file(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) {
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) {
    return 2;
  }
  // Blocked before the server threads exist so they inherit the mask and the
  // main thread alone receives the signal in sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    amiboot::testing::FakeImds imds(args.port, /*start=*/false);
    if (!args.dir.empty()) {
      imds.load_dir(args.dir);
    }
    if (!args.user_data_file.empty()) {
      std::string user_data;
      if (!read_whole_file(args.user_data_file, user_data)) {
        std::cerr << "amiboot-fake-imds: cannot read " << args.user_data_file << "\n";
        return 1;
      }
      imds.set_user_data(user_data);
    }
    if (!args.instance_id.empty()) {
      imds.set_instance_id(args.instance_id);
    }
    imds.set_latency(args.latency_ms);
    imds.start();
    if (!args.port_file.empty() && !write_port_file(args.port_file, imds.port())) {
      std::cerr << "amiboot-fake-imds: cannot write " << args.port_file << "\n";
      return 1;
    }
    std::cout << "listening on " << imds.url() << std::endl;

    int received = 0;
    sigwait(&stop_signals, &received);
    std::cerr << "amiboot-fake-imds: stopping on signal " << received << " after "
              << imds.request_count() << " requests\n";
    imds.stop();
  } catch (const std::exception& e) {
    std::cerr << "amiboot-fake-imds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
