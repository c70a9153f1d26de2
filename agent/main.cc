// SPDX-License-Identifier: Apache-2.0
// amiboot: thin entry point. Everything lives in amiboot_core.
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "agent/cli.h"
#include "agent/cloud_init_compat.h"

int main(int argc, char** argv) {
  // State and cached user data must never be readable by others.
  umask(077);
  // A child that exits without reading its stdin must not kill the agent.
  signal(SIGPIPE, SIG_IGN);
  // The amiboot-cloud-init-compat package links /usr/bin/cloud-init here.
  std::string name = argc > 0 ? argv[0] : "amiboot";
  name = name.substr(name.rfind('/') + 1);
  bool cloud_init = name == "cloud-init";
  try {
    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    return cloud_init ? amiboot::cloud_init_main(args) : amiboot::cli_main(args);
  } catch (const std::exception& e) {
    std::cerr << (cloud_init ? "cloud-init" : "amiboot") << ": fatal: " << e.what() << "\n";
    return 1;
  }
}
