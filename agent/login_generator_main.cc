// SPDX-License-Identifier: Apache-2.0
// amiboot-login-generator: a systemd generator (systemd.generator(7)),
// installed in the system-generators folder. systemd calls it with its
// normal, early and late output folders; the drop-ins go to the first.
#include <iostream>

#include "agent/login_order.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: amiboot-login-generator NORMAL_DIR [EARLY_DIR LATE_DIR]\n";
    return 2;
  }
  return amiboot::generate_login_order("/", argv[1], std::cerr);
}
