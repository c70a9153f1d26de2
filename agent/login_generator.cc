// SPDX-License-Identifier: Apache-2.0
// The generator's I/O, on plain files: it runs before systemd loads any
// unit, so no System, no journal, no libraries to load (agent/system.h is
// the agent's door to the OS; this program has three files to read).
#include <filesystem>
#include <fstream>

#include "agent/login_order.h"
#include "agent/state.h"

namespace amiboot {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_small_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::string text(256, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

fs::path under(const std::string& root, const std::string& path) {
  return fs::path(root) / fs::path(path).relative_path();
}

}  // namespace

int generate_login_order(const std::string& root, const std::string& out_dir, std::ostream& err) {
  std::string state = std::string(kStateDir);
  auto tag = read_small_file(under(root, kBoardAssetTagPath));
  auto record = read_small_file(under(root, state + "/" + kFastLoginRecordName));
  std::error_code ec;
  fs::path link = fs::read_symlink(under(root, state + "/instance"), ec);
  std::optional<std::string> instance;
  if (!ec) {
    instance = link.string();
  }
  if (!logins_wait_for_amiboot(tag, record, instance)) {
    return 0;
  }
  int rc = 0;
  for (const char* unit : kLoginUnits) {
    fs::path dir = fs::path(out_dir) / (std::string(unit) + ".d");
    fs::create_directories(dir, ec);
    std::ofstream out(dir / kLoginDropInName, std::ios::trunc);
    out << login_drop_in_text();
    out.close();
    if (!out) {
      err << "amiboot-login-generator: cannot write " << (dir / kLoginDropInName).string()
          << "; logins may not wait for amiboot this boot\n";
      rc = 1;
    }
  }
  return rc;
}

}  // namespace amiboot
