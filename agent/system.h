// System: the one door to the OS. Every file amiboot writes, every program it
// runs, goes through here. Paths are instance paths ("/etc/hosts"); with a
// root other than "/" they are mapped under it, and a path that would leave
// the root (through "..", or a symlink pointing out) is refused.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "modules/module.h"

namespace amiboot {

struct FileAttrs {
  mode_t mode = 0644;
  std::optional<uid_t> uid;  // unchanged (root on create) when empty
  std::optional<gid_t> gid;
  /// fsync before and after the rename. Off for /run files: tmpfs, and
  /// rewritten many times a boot.
  bool durable = true;
  /// Called with the temporary file's host path before the rename; an error
  /// leaves the old file in place.
  std::function<Status(const std::string& temp_path)> check;
};

struct CommandSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;             // added to a minimal clean environment
  std::string identifier = "amiboot-script";          // journal SYSLOG_IDENTIFIER of its output
  std::map<std::string, std::string> journal_fields;  // AMIBOOT_MODULE=... on its output
  std::string input;                                  // written to its stdin
  bool to_console = false;                            // output also to our stdout
  /// Keep the output (its last 256 KiB) in CommandOutcome::output too, for
  /// callers that decide on it (the package manager's "no such package").
  bool capture_output = false;
};

struct CommandOutcome {
  int exit_code = 0;   // 128+N when killed by signal N
  std::string output;  // stdout and stderr interleaved, when capture_output
};

class System : public SystemView {
 public:
  explicit System(std::string root = "/");

  const std::string& root() const { return m_root; }
  bool under_root() const { return m_root != "/"; }

  /// The host path of an instance path, every symlink resolved inside the
  /// root (the last one only when follow_last). Errors when the path is
  /// relative or would escape.
  Result<std::string> resolve(const std::string& path, bool follow_last = true) const;

  Result<std::string> read_file(const std::string& path, std::size_t max_bytes = 64 << 20) const;
  bool exists(const std::string& path) const;
  /// Writes atomically: temp file in the same folder, fsync, rename, fsync
  /// of the folder. Missing parent folders are created 0755.
  Status write_file(const std::string& path, std::string_view content, const FileAttrs& attrs);
  Status make_dirs(const std::string& path, mode_t mode);
  /// Creates one folder (missing parents 0755) or takes the existing one,
  /// then sets exactly attrs.mode and the owner in attrs. Refuses a symlink
  /// in its place, so a link planted in a home folder cannot redirect the chown.
  Status make_owned_dir(const std::string& path, const FileAttrs& attrs);
  Status remove_all(const std::string& path);
  /// Replaces a symlink atomically.
  Status symlink(const std::string& target, const std::string& link);
  Result<std::string> read_symlink(const std::string& path) const;
  Result<std::vector<std::string>> list_dir(const std::string& path) const;
  std::vector<std::string> executables_in(const std::string& dir) const override;
  std::optional<std::string> read_text(const std::string& path) const override;
  bool path_exists(const std::string& path) const override;
  std::vector<std::string> list(const std::string& dir) const override;
  bool has_program(const std::string& name) const override;

  /// user[:group] from the instance's /etc/passwd and /etc/group.
  Result<std::pair<uid_t, gid_t>> lookup_owner(const std::string& owner) const;

  /// Runs argv without a shell; output goes to the journal (or our stderr).
  Result<CommandOutcome> run(const CommandSpec& spec);

 private:
  std::string m_root;
};

}  // namespace amiboot
