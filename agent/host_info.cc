// SPDX-License-Identifier: Apache-2.0
#include "agent/host_info.h"

#include <sys/utsname.h>

#include <algorithm>
#include <sstream>

#include "modules/os_release.h"

namespace amiboot {

HostInfo read_host_info(const System& system) {
  HostInfo host;
  auto text = system.read_file("/etc/os-release");
  if (!text) {
    text = system.read_file("/usr/lib/os-release");
  }
  if (text) {
    OsRelease os = parse_os_release(*text);
    host.distro = os.id;
    host.distro_version = os.version_id;
    std::stringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("VERSION_CODENAME=", 0) == 0) {
        std::string v = line.substr(17);
        v.erase(std::remove(v.begin(), v.end(), '"'), v.end());
        v.erase(std::remove(v.begin(), v.end(), '\''), v.end());
        host.distro_release = v;
      }
    }
  }
  struct utsname u {};
  if (uname(&u) == 0) {
    host.kernel_release = u.release;
    host.machine = u.machine;
  }
  return host;
}

}  // namespace amiboot
