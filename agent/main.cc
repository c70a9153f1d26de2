// amiboot: thin entry point. Everything lives in amiboot_core.
#include <sys/stat.h>

#include <csignal>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "agent/cli.h"

int main(int argc, char** argv) {
  // State and cached user data must never be readable by others.
  umask(077);
  // A child that exits without reading its stdin must not kill the agent.
  signal(SIGPIPE, SIG_IGN);
  try {
    return amiboot::cli_main(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "amiboot: fatal: " << e.what() << "\n";
    return 1;
  }
}
