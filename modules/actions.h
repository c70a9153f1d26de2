// SPDX-License-Identifier: Apache-2.0
// Actions: what a module's plan asks for, as values comparable with ==.
// Only the executor carries them out (agent/executor.cc), through System.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace amiboot {

/// Write (or append to) a file atomically. Paths are as seen by the instance;
/// the executor maps them under --root and refuses escapes.
struct WriteFile {
  std::string path;
  std::string content;
  mode_t mode = 0644;
  std::string owner = "root";  // user[:group]
  bool append = false;
  std::string label;  // "write_files[2]"
  /// Run on the new content before it is installed, "{}" standing for the
  /// temporary file (`visudo -cf {}`); a failure leaves the old file alone.
  std::vector<std::string> check_argv;
  /// Where each line of `content` came from (1-based line -> "users[1].sudo
  /// (user-data:5:11)"), so that one check of the whole file can still
  /// name what it rejected: the executor reads the line from the check's
  /// output ("TEMP:8:18: syntax error", older sudo's "near line 8").
  std::map<int, std::string> check_line_sources;
  /// On failure the module's remaining actions are skipped (a sudoers file
  /// visudo rejects means no user from that config is created).
  bool required = false;
  /// fsync the file and its folder (FileAttrs::durable); off for a script
  /// made from the user data to be run (script_file).
  bool durable = true;
  bool operator==(const WriteFile&) const = default;
};

/// Write (or append to) a file with content fetched from a URL (write_files
/// `source`), as WriteFile writes. The executor tries `attempts` times; when
/// every try fails it writes `fallback` if there is one, else the action
/// fails and the file is left as it was (never an empty file). The URL's
/// query and the header values may be credentials: describe(), the JSON and
/// the journal show scheme://host/path and the header names only.
/// write_files' `source:` downloads count against amiboot.limits.
/// write_files_bytes with the entries' own content.
struct FetchBudget {
  std::size_t bytes = 0;  // the limit less the content the entries carry
  std::size_t limit = 0;  // the limit itself, for the error
  std::string setting;    // "amiboot.limits.write_files_bytes"
  bool operator==(const FetchBudget&) const = default;
};

struct FetchFile {
  std::string path;
  /// http:// or https:// (through System::http_get), or file:///path, a
  /// file on the target system (through System::read_file).
  std::string url;
  std::map<std::string, std::string> headers;
  std::optional<std::string> fallback;  // the entry's decoded `content`
  mode_t mode = 0644;
  std::string owner = "root";  // user[:group]
  bool append = false;
  std::string label;          // "write_files[2]"
  int attempts = 4;           // cloud-init: 3 retries,
  int retry_delay_ms = 3000;  // 3 s apart
  std::size_t max_bytes = 64 << 20;
  /// What all the module's fetches with a budget may bring together; the
  /// executor fetches them all before the module's first action (nullopt:
  /// this fetch is bounded by max_bytes alone).
  std::optional<FetchBudget> shared_budget;
  /// When set, what is fetched must be the OpenPGP public key with this id
  /// (openpgp_keyid_problem()), else nothing is written: apt's `keyid`
  /// fetched from a keyserver, which could answer with any key.
  std::string openpgp_keyid;
  bool operator==(const FetchFile&) const = default;
};

/// A URL as describe(), the JSON and logs show it: scheme://host/path, no
/// user:password@, the query and fragment replaced by "?...".
std::string shown_url(const std::string& url);
/// The host[:port] of a URL, or "" (file:// URLs).
std::string url_host(const std::string& url);

/// Remove a file (or an empty folder) if it exists.
struct RemoveFile {
  std::string path;
  std::string label;
  bool operator==(const RemoveFile&) const = default;
};

/// Point `link` at `target`, replacing what is there in one rename (never
/// through it: an old link is replaced, not followed), so the link is never
/// missing: /etc/localtime.
struct MakeSymlink {
  std::string link;
  std::string target;
  std::string label;
  bool operator==(const MakeSymlink&) const = default;
};

/// Create a folder (parents 0755 root) and set its mode and owner, also when
/// it exists: ~/.ssh must be 0700 and the user's. A symlink is refused.
/// With `if_missing`, what `mkdir -p` does, without a process: the folder
/// and its missing parents are made `mode`, owned by root; a folder that
/// exists keeps its mode and owner (a mount point the image made), and
/// symlinks on the way are followed inside the root.
struct MakeDir {
  std::string path;
  mode_t mode = 0755;
  std::string owner = "root";  // user[:group], resolved when the action runs
  std::string label;
  bool if_missing = false;
  bool operator==(const MakeDir&) const = default;
};

/// Run a program with an argv (never a shell string we built). A module
/// says what the command touches; only the executor knows about --root and
/// maps or skips accordingly (ARCHITECTURE.md).
struct RunCommand {
  std::vector<std::string> argv;
  std::string label;              // "runcmd[1]", "script part-001"
  bool instance_program = false;  // argv[0] is a program on the target system
  /// Indices of argv elements that are paths on the target system
  /// ("/etc/ssh/ssh_host_ed25519_key"): under --root the executor maps them
  /// inside the root, symlinks resolved there, and refuses an escape. Only
  /// for argvs a module builds, never for user commands. See target_path().
  std::vector<std::size_t> target_paths;
  /// The program's own option for acting on a target root ("--root" for
  /// useradd, "-Q" for gpasswd): under --root the executor inserts it, the
  /// root and root_extra_args after argv[0].
  std::string root_option;
  std::vector<std::string> root_extra_args;
  /// Acts on the running machine itself (its hostname, kernel firewall,
  /// swap), which under --root is not the target: skipped there.
  bool needs_host = false;
  /// Changes what the host kernel sees (mounts a file system, writes a file
  /// system or a partition table onto a device). No path mapping confines
  /// that, so under --root it runs only when the root is itself a mount
  /// point, the target an image build mounted (System::root_is_mount_point);
  /// in a plain folder it is refused with an error saying so.
  bool needs_mounted_root = false;
  /// On failure the module's remaining actions are skipped, so nothing is
  /// half-applied (nft -c before nft -f).
  bool required = false;
  /// Output also goes to the console (stdout), e.g. host key fingerprints.
  bool to_console = false;
  std::string input;  // stdin
  /// A target path: the command's standard output, when it exits 0, is
  /// written there (atomically, 0644 root) instead of to the journal
  /// (`ssh-keygen -y -f KEY` deriving KEY.pub). Its standard error goes to
  /// the journal as usual.
  std::string output_path;
  bool operator==(const RunCommand&) const = default;

  /// Appends a path on the target system to argv.
  RunCommand& target_path(std::string path) {
    target_paths.push_back(argv.size());
    argv.push_back(std::move(path));
    return *this;
  }
  bool is_target_path(std::size_t index) const {
    return std::find(target_paths.begin(), target_paths.end(), index) != target_paths.end();
  }
};

/// Text for the console and the journal (final_message, fingerprints). On
/// an instance the console is amiboot's stdout, which the unit sends to the
/// journal too (StandardOutput=journal+console): never a secret here.
struct ConsoleMessage {
  std::string text;
  bool operator==(const ConsoleMessage&) const = default;
};

/// The running machine's hostname (sethostname(2) through
/// System::set_hostname; no `hostname` process). Acts on the host: skipped
/// under --root, as a RunCommand with needs_host is.
struct SetHostname {
  std::string name;
  std::string label;
  bool operator==(const SetHostname&) const = default;
};

/// Random passwords (chpasswd's RANDOM, `R`), made when the action runs:
/// each user's is fed to `chpasswd` (its argv, root option and label) on
/// stdin as "user:password", and those set are shown on the console alone
/// (System::console_only: /dev/console, as cloud-init writes them), under
/// cloud-init's "Set the following 'random' passwords" line. A password
/// never reaches the journal, the status, the state or a dry run.
struct SetRandomPasswords {
  std::vector<std::string> users;
  RunCommand chpasswd;
  bool operator==(const SetRandomPasswords&) const = default;
};

/// An HTTP request with retries (readiness callbacks). The URL is treated
/// as a secret: pre-signed URLs carry their credential.
struct HttpRequest {
  std::string method;  // "PUT", "POST"
  std::string url;
  std::string body;
  std::string content_type;  // "" sends an empty Content-Type, as cfn-signal does
  int attempts = 5;
  int retry_delay_ms = 2000;  // grows linearly with each attempt
  std::string label;
  bool operator==(const HttpRequest&) const = default;
};

/// A package as user data names it: `nginx`, `nginx=1.24.0-1`, `[nginx, 1.24.0-1]`.
struct PackageSpec {
  std::string name;
  std::string version;  // empty = any
  bool operator==(const PackageSpec&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PackageSpec, name, version)

/// Install packages (and update the index, upgrade) with the image's package
/// manager. Not one command but a short conversation: the executor retries
/// while a lock is held or the network fails, updates a stale index once, and
/// installs the rest when a package does not exist (modules/packages.h).
struct ManagePackages {
  std::string manager;  // a row of package_managers(): "apt", "dnf", "yum", "zypper"
  std::vector<PackageSpec> packages;
  bool update = false;
  bool upgrade = false;
  bool reboot_if_required = false;
  int lock_timeout_seconds = 300;  // how long the manager itself waits for its lock
  int attempts = 5;                // tries of one command on transient failures
  /// No retry starts later than this after the first command: the whole
  /// conversation's retries, bounded in time as well as in count.
  int retry_deadline_seconds = 300;
  std::string label = "packages";
  bool operator==(const ManagePackages&) const = default;
};

/// power_state: shut down, reboot or halt once the final stage is over.
/// Applying it changes nothing yet: the executor hands it to the runner
/// (ExecOutcome::power_change), which carries it out after the final stage's
/// status and result are written and the readiness signal is sent
/// (change_power_state() in agent/executor.h): `condition` first, when there
/// is one (exit 0: go ahead; anything else: no change), then `command`, and
/// `fallback` when `command` fails (no systemd-run, or one too old). All three act on the running
/// machine (needs_host): nothing happens under --root.
struct ChangePowerState {
  std::string mode;  // "poweroff", "reboot", "halt"
  std::optional<RunCommand> condition;
  RunCommand command;
  std::optional<RunCommand> fallback;
  bool operator==(const ChangePowerState&) const = default;
};

/// Grow partition `number` of the disk at `disk` (a host device node such as
/// "/dev/nvme0n1") in its partition table, from `old_size` to `new_size`
/// sectors of `sector_size` bytes, after checking that the table is still
/// the `table` type the plan read and the partition still starts at `start`
/// with `old_size` sectors; libfdisk writes the table (GPT's backup header
/// moved to the end of the disk). Then the running kernel is told with
/// BLKPG_RESIZE_PARTITION: the partition is in use, so the whole table
/// cannot be re-read. A table that already has `new_size` is only told to
/// the kernel. Only a plan that read the disk through BlockDevices makes one.
struct GrowPartition {
  std::string disk;
  int number = 0;
  std::string table;  // "gpt", "dos"
  std::uint64_t sector_size = 512;
  std::uint64_t start = 0;
  std::uint64_t old_size = 0;
  std::uint64_t new_size = 0;
  std::string label;  // "growpart /"
  /// On failure the module's remaining actions are skipped (the filesystem
  /// is not grown into a partition that did not grow).
  bool required = true;
  bool operator==(const GrowPartition&) const = default;
};

/// One partition of a new table, in bytes from the start of the disk.
struct PartitionSpec {
  std::uint64_t start = 0;
  std::uint64_t size = 0;  // 0: to the end of the disk (the last usable sector)
  std::string type;        // "83" (MBR, hex) or a GPT type GUID
  bool operator==(const PartitionSpec&) const = default;
};

/// A new partition table on the disk at `disk` (a host device node), written
/// by libfdisk: the old table's signatures and any signature inside the new
/// partitions wiped, then the kernel made to see the partitions (re-read, or
/// added with BLKPG where it does not find them itself). Only a plan that
/// found the disk blank, or was told `overwrite`, and never in use, makes one.
struct MakePartitionTable {
  std::string disk;
  std::string table;  // "gpt", "dos"
  std::vector<PartitionSpec> partitions;
  bool overwrite = false;  // the disk carried something: it is destroyed
  std::string label;       // "disk_setup ebs1"
  bool required = true;    // a failure skips the mkfs that would follow
  bool operator==(const MakePartitionTable&) const = default;
};

using Action = std::variant<WriteFile, RemoveFile, MakeSymlink, RunCommand, ConsoleMessage,
                            HttpRequest, MakeDir, ManagePackages, FetchFile, SetRandomPasswords,
                            ChangePowerState, GrowPartition, MakePartitionTable, SetHostname>;

/// The paths a plan's actions name, for the init-stage lanes
/// (modules/lanes.h): files written or removed, folders made, links, and the
/// target paths of its commands (mount points among them). What a command
/// touches besides is for the module to add.
std::vector<std::string> action_paths(const std::vector<Action>& actions);

/// Whether doing the action again, after it completed or after a death
/// half-way, leaves what doing it once leaves: a whole file written or
/// removed, a folder, a link, the hostname. Such actions need no record
/// of progress (agent/module_progress.h): a rerun simply does them again.
bool redo_safe(const Action& action);

/// One line for --dry-run; never contains file contents (user data may hold secrets).
std::string describe(const Action& action);
/// An argv as one line, quoting what a shell would split.
std::string quote_argv(const std::vector<std::string>& argv);
nlohmann::json action_to_json(const Action& action);

}  // namespace amiboot
