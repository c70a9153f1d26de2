// SPDX-License-Identifier: Apache-2.0
// System: the one door to the OS. Every file amiboot writes, every program it
// runs, goes through here. Paths are instance paths ("/etc/hosts"); with a
// root other than "/" they are mapped under it, and a path that would leave
// the root (through "..", or a symlink pointing out) is refused.
#pragma once

#include <sys/types.h>

#include <chrono>
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
  /// With durable: the folder is fsynced after the rename. Off for a caller
  /// that writes several files into one folder and makes their renames
  /// durable together, with one System::sync_folder.
  bool sync_folder = true;
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
  /// Keep stdout apart, whole (up to 1 MiB), in CommandOutcome::stdout_text
  /// and out of the journal and the console; stderr goes on as usual
  /// (RunCommand::output_path).
  bool capture_stdout = false;
};

struct CommandOutcome {
  int exit_code = 0;        // 128+N when killed by signal N
  std::string output;       // stdout and stderr interleaved, when capture_output
  std::string stdout_text;  // stdout alone, when capture_stdout
};

/// The system behind one interface: files (mapped under the root), commands,
/// HTTP, the console, the clock, and the host's /proc and DMI reads. The agent
/// runs on HostSystem; tests script a RecordingSystem
/// (tests/support/fake_system.h) that fails on any call they did not expect.
class System : public SystemView {
 public:
  /// "/" on an instance, the sandbox root under --root.
  virtual const std::string& root() const = 0;
  virtual bool under_root() const { return root() != "/"; }
  /// The root is a mount point of its own (an image build's mounted
  /// target), not a plain folder: mount, mkfs and partition tables may act
  /// under --root only then (RunCommand::needs_mounted_root).
  virtual bool root_is_mount_point() const { return !under_root(); }
  /// May be called from two threads at once (the runner's lanes,
  /// modules/lanes.h): each call stands alone, commands run side by side.
  /// False for Systems that script a sequence (RecordingSystem): the runner
  /// then applies every row in order.
  virtual bool concurrent_use() const { return false; }

  /// The host path of an instance path, every symlink resolved inside the
  /// root (the last one only when follow_last). Errors when the path is
  /// relative or would escape.
  virtual Result<std::string> resolve(const std::string& path, bool follow_last = true) const = 0;

  virtual Result<std::string> read_file(const std::string& path,
                                        std::size_t max_bytes = 64 << 20) const = 0;
  virtual bool exists(const std::string& path) const = 0;
  /// Writes atomically: temp file in the same folder, fsync, rename, fsync
  /// of the folder. Missing parent folders are created 0755.
  virtual Status write_file(const std::string& path, std::string_view content,
                            const FileAttrs& attrs) = 0;
  /// write_file unless the file already holds exactly `content`: a reboot
  /// of the same instance then rewrites nothing and pays no fsync. `wrote`,
  /// when given, is set when it wrote.
  Status write_file_if_changed(const std::string& path, const std::string& content,
                               const FileAttrs& attrs, bool* wrote = nullptr);
  virtual Status make_dirs(const std::string& path, mode_t mode) = 0;
  /// Removes the temporary files a write_file of `path` that never finished
  /// (amiboot killed mid-write) left next to it. A no-op unless a System
  /// implements it.
  virtual Status remove_temp_files(const std::string& path) {
    (void)path;
    return {};
  }
  /// Creates one folder (missing parents 0755) or takes the existing one,
  /// then sets exactly attrs.mode and the owner in attrs. Refuses a symlink
  /// in its place, so a link planted in a home folder cannot redirect the chown.
  virtual Status make_owned_dir(const std::string& path, const FileAttrs& attrs) = 0;
  virtual Status remove_all(const std::string& path) = 0;
  /// Replaces a symlink atomically. Not durable until its folder is synced.
  virtual Status symlink(const std::string& target, const std::string& link) = 0;
  /// fsync of a folder: the renames and links made in it survive a power
  /// loss. A no-op where nothing is on a disk (the tests' fakes).
  virtual Status sync_folder(const std::string& path) {
    (void)path;
    return {};
  }
  virtual Result<std::string> read_symlink(const std::string& path) const = 0;
  virtual Result<std::vector<std::string>> list_dir(const std::string& path) const = 0;

  /// user[:group] from the instance's /etc/passwd and /etc/group (read
  /// through read_file, so every System resolves owners the same way).
  virtual Result<std::pair<uid_t, gid_t>> lookup_owner(const std::string& owner) const;

  /// Runs argv without a shell; output goes to the journal (or our stderr).
  virtual Result<CommandOutcome> run(const CommandSpec& spec) = 0;

  /// One HTTP request (PUT, POST); the error never names the URL.
  virtual Status http_send(const std::string& method, const std::string& url,
                           const std::string& body, const std::string& content_type) = 0;
  /// One GET (write_files `source`): the body of a 2xx answer, at most
  /// max_bytes (larger is an error). http:// and https:// only, redirects
  /// followed to those schemes only. The error names the HTTP status or the
  /// transport failure, never the URL or a header value (either may be a
  /// credential).
  virtual Result<std::string> http_get(const std::string& url,
                                       const std::map<std::string, std::string>& headers,
                                       std::size_t max_bytes) = 0;
  /// One line on the console (our stdout: journal+console under the unit).
  virtual void console(const std::string& text) = 0;
  /// Text for the console alone, never the journal or the output copy
  /// (random passwords): /dev/console on an instance, as cloud-init writes
  /// them; under --root, which has no console of its own, the controlling
  /// terminal (/dev/tty) of whoever runs amiboot. False when neither could
  /// be opened: the text was shown nowhere.
  virtual bool console_only(const std::string& text) = 0;

  /// From now on also appends each line of command output and each console
  /// line to this instance file (cloud-init's /var/log/cloud-init-output.log,
  /// made 0640 root:adm, root:root where there is no adm group). A no-op
  /// unless a System implements it.
  virtual Status copy_output_to(const std::string& path) {
    (void)path;
    return {};
  }

  /// Grows a partition in its table and tells the kernel (GrowPartition).
  /// Returns a line for the journal: the sizes before and after, and what
  /// libfdisk said (the GPT backup header moved).
  virtual Result<std::string> grow_partition(const GrowPartition& request) = 0;
  /// Writes a new partition table and makes the kernel see its partitions
  /// (MakePartitionTable). Returns a line for the journal.
  virtual Result<std::string> make_partition_table(const MakePartitionTable& request) = 0;

  /// The running kernel's hostname (sethostname(2)); the host's, never
  /// mapped under the root (the executor does not call it under --root).
  virtual Status set_hostname(const std::string& name) = 0;

  /// Wall-clock time (timestamps) and waiting (retry delays).
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds delay) = 0;

  /// Seconds since the kernel booted (/proc/uptime).
  virtual double uptime_seconds() const = 0;
  /// The kernel command line (/proc/cmdline, under the root with --root).
  virtual std::string kernel_cmdline() const = 0;
  /// A host file outside the root, never mapped: /sys/class/dmi/id/...,
  /// /sys/hypervisor/uuid. nullopt when absent or unreadable.
  virtual std::optional<std::string> read_host_file(const std::string& host_path) const = 0;
};

/// An flock(2) held until this goes out of scope (HostSystem::lock).
class FileLock {
 public:
  explicit FileLock(int fd) : m_fd(fd) {}
  FileLock(FileLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock();

 private:
  int m_fd;
};

/// The real system.
class HostSystem final : public System {
 public:
  explicit HostSystem(std::string root = "/");
  ~HostSystem() override;
  HostSystem(const HostSystem&) = delete;
  HostSystem& operator=(const HostSystem&) = delete;

  const std::string& root() const override { return m_root; }
  bool root_is_mount_point() const override;
  bool concurrent_use() const override { return true; }

  Result<std::string> resolve(const std::string& path, bool follow_last = true) const override;
  Result<std::string> read_file(const std::string& path,
                                std::size_t max_bytes = 64 << 20) const override;
  bool exists(const std::string& path) const override;
  Status write_file(const std::string& path, std::string_view content,
                    const FileAttrs& attrs) override;
  Status make_dirs(const std::string& path, mode_t mode) override;
  Status remove_temp_files(const std::string& path) override;
  Status make_owned_dir(const std::string& path, const FileAttrs& attrs) override;
  Status remove_all(const std::string& path) override;
  Status symlink(const std::string& target, const std::string& link) override;
  Status sync_folder(const std::string& path) override;
  Result<std::string> read_symlink(const std::string& path) const override;
  Result<std::vector<std::string>> list_dir(const std::string& path) const override;
  std::vector<std::string> executables_in(const std::string& dir) const override;
  std::optional<std::string> read_text(const std::string& path) const override;
  bool path_exists(const std::string& path) const override;
  std::vector<std::string> list(const std::string& dir) const override;
  bool has_program(const std::string& name) const override;

  Result<CommandOutcome> run(const CommandSpec& spec) override;
  Status http_send(const std::string& method, const std::string& url, const std::string& body,
                   const std::string& content_type) override;
  Result<std::string> http_get(const std::string& url,
                               const std::map<std::string, std::string>& headers,
                               std::size_t max_bytes) override;
  void console(const std::string& text) override;
  bool console_only(const std::string& text) override;
  Status copy_output_to(const std::string& path) override;
  Result<std::string> grow_partition(const GrowPartition& request) override;
  Result<std::string> make_partition_table(const MakePartitionTable& request) override;
  Status set_hostname(const std::string& name) override;
  std::chrono::system_clock::time_point now() const override;
  void sleep_for(std::chrono::milliseconds delay) override;
  double uptime_seconds() const override;
  std::string kernel_cmdline() const override;
  std::optional<std::string> read_host_file(const std::string& host_path) const override;

  /// Takes an exclusive lock on the instance file `path` (created 0600, our
  /// pid written into it), waiting up to `wait` for whoever holds it; calls
  /// `waiting` once, with the holder's pid as the file says, when it must
  /// wait. An error naming the holder when the wait ran out.
  Result<FileLock> lock(const std::string& path, std::chrono::seconds wait,
                        const std::function<void(const std::string& holder)>& waiting);

 private:
  void copy_line(std::string_view line);
  std::string m_root;
  int m_root_fd = -1;      // m_root, opened once (O_PATH): where folder walks start
  int m_output_copy = -1;  // copy_output_to's file
};

}  // namespace amiboot
