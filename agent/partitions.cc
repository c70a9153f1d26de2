// SPDX-License-Identifier: Apache-2.0
#include "agent/partitions.h"

#include <fcntl.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "agent/libfdisk.h"
#include "modules/device_names.h"

namespace amiboot {

namespace {

// The loaded table. Only code reached after open_table() or
// write_partition_table() has loaded it calls this; those return the load
// error instead.
const Libfdisk& fdisk() {
  return **libfdisk();
}

struct ContextDeleter {
  void operator()(fdisk_context* cxt) const { fdisk().unref_context(cxt); }
};
struct PartitionDeleter {
  void operator()(fdisk_partition* pa) const { fdisk().unref_partition(pa); }
};
struct TableDeleter {
  void operator()(fdisk_table* tb) const { fdisk().unref_table(tb); }
};
struct IterDeleter {
  void operator()(fdisk_iter* it) const { fdisk().free_iter(it); }
};
struct ItemDeleter {
  void operator()(fdisk_labelitem* li) const { fdisk().unref_labelitem(li); }
};
using Context = std::unique_ptr<fdisk_context, ContextDeleter>;
using Partition = std::unique_ptr<fdisk_partition, PartitionDeleter>;

std::string errno_text(int rc) {
  return std::strerror(rc < 0 ? -rc : rc);
}

// libfdisk's messages ("The backup GPT table is not on the end of the
// device.") go through its ask callback; without one they are lost.
int collect_messages(fdisk_context*, fdisk_ask* ask, void* data) {
  auto* out = static_cast<std::string*>(data);
  switch (fdisk().ask_get_type(ask)) {
    case FDISK_ASKTYPE_INFO:
    case FDISK_ASKTYPE_WARN:
    case FDISK_ASKTYPE_WARNX:
      if (const char* m = fdisk().ask_print_get_mesg(ask); m != nullptr && *m != '\0') {
        *out += (out->empty() ? "" : "\n") + std::string(m);
      }
      return 0;
    default:
      return -EINVAL;  // never asked: nothing here is interactive
  }
}

/// A context on `path`, its label probed. `messages` must outlive it.
Result<Context> open_table(const std::string& path, bool read_only, std::string& messages) {
  if (auto lib = libfdisk(); !lib) {
    return lib.error();
  }
  Context cxt(fdisk().new_context());
  if (!cxt) {
    return error("libfdisk: out of memory");
  }
  fdisk().set_ask(cxt.get(), collect_messages, &messages);
  if (int rc = fdisk().assign_device(cxt.get(), path.c_str(), read_only ? 1 : 0); rc != 0) {
    return error("cannot open " + path + ": " + errno_text(rc));
  }
  if (fdisk().has_label(cxt.get()) != 1) {
    return error(path + " has no partition table libfdisk knows");
  }
  return cxt;
}

std::string label_type(fdisk_context* cxt) {
  if (fdisk().is_labeltype(cxt, FDISK_DISKLABEL_GPT)) {
    return "gpt";
  }
  if (fdisk().is_labeltype(cxt, FDISK_DISKLABEL_DOS)) {
    return "dos";
  }
  return "other";
}

std::optional<std::uint64_t> label_item(fdisk_context* cxt, int id) {
  std::unique_ptr<fdisk_labelitem, ItemDeleter> item(fdisk().new_labelitem());
  std::uint64_t value = 0;
  if (!item || fdisk().get_disklabel_item(cxt, id, item.get()) != 0 ||
      fdisk().labelitem_get_data_u64(item.get(), &value) != 0) {
    return std::nullopt;
  }
  return value;
}

Status blkpg(const std::string& disk, int op, int number, std::uint64_t start,
             std::uint64_t length) {
  int fd = open(disk.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return error("cannot open " + disk + ": " + std::strerror(errno));
  }
  blkpg_partition part{};
  part.start = static_cast<long long>(start);
  part.length = static_cast<long long>(length);
  part.pno = number;
  blkpg_ioctl_arg arg{};
  arg.op = op;
  arg.datalen = sizeof part;
  arg.data = &part;
  int rc = ioctl(fd, BLKPG, &arg);
  int err = errno;
  close(fd);
  if (rc != 0) {
    return error(std::string(op == BLKPG_RESIZE_PARTITION ? "BLKPG_RESIZE_PARTITION"
                                                          : "BLKPG_ADD_PARTITION") +
                 " on " + disk + " partition " + std::to_string(number) + ": " +
                 std::strerror(err));
  }
  return {};
}

}  // namespace

Result<PartitionTable> read_partition_table(const std::string& path) {
  std::string messages;
  auto cxt = open_table(path, true, messages);
  if (!cxt) {
    return cxt.error();
  }
  fdisk_context* c = cxt->get();
  PartitionTable t;
  t.type = label_type(c);
  t.sector_size = fdisk().get_sector_size(c);
  t.sectors = fdisk().get_nsectors(c);
  t.first_usable = fdisk().get_first_lba(c);
  t.last_usable = fdisk().get_last_lba(c);
  if (t.type == "gpt") {
    // Read-only, libfdisk leaves the backup header where it is; once it is
    // written, the header is in the last sector and its entries just before.
    auto first = label_item(c, GPT_LABELITEM_ENTRIESLBA);
    auto last = label_item(c, GPT_LABELITEM_ENTRIESLASTLBA);
    if (!first || !last || *last < *first || t.sectors < *last - *first + 3) {
      return error(path + ": cannot read the GPT entries' place");
    }
    t.last_usable = t.sectors - 2 - (*last - *first + 1);
  } else if (t.type == "dos") {
    // MBR entries hold 32-bit sector numbers.
    t.last_usable = std::min<std::uint64_t>(t.sectors - 1, 0xffffffffull);
  }
  fdisk_table* raw = nullptr;
  if (int rc = fdisk().get_partitions(c, &raw); rc != 0) {
    return error(path + ": cannot list the partitions: " + errno_text(rc));
  }
  std::unique_ptr<fdisk_table, TableDeleter> table(raw);
  std::unique_ptr<fdisk_iter, IterDeleter> it(fdisk().new_iter(FDISK_ITER_FORWARD));
  fdisk_partition* pa = nullptr;
  while (fdisk().table_next_partition(table.get(), it.get(), &pa) == 0) {
    if (!fdisk().partition_is_used(pa) || !fdisk().partition_has_partno(pa) ||
        !fdisk().partition_has_start(pa) || !fdisk().partition_has_size(pa)) {
      continue;
    }
    t.partitions.push_back({static_cast<int>(fdisk().partition_get_partno(pa)) + 1,
                            fdisk().partition_get_start(pa), fdisk().partition_get_size(pa),
                            fdisk().partition_is_container(pa) == 1});
  }
  return t;
}

Result<std::string> grow_partition_in_table(const std::string& path, const std::string& type,
                                            int number, std::uint64_t start, std::uint64_t old_size,
                                            std::uint64_t new_size) {
  std::string messages;
  auto cxt = open_table(path, false, messages);
  if (!cxt) {
    return cxt.error();
  }
  fdisk_context* c = cxt->get();
  std::string where = "partition " + std::to_string(number) + " of " + path;
  if (label_type(c) != type) {
    return error(path + " now has a " + label_type(c) + " partition table, not " + type +
                 "; not changed");
  }
  fdisk_partition* raw = nullptr;
  if (number < 1 || fdisk().get_partition(c, static_cast<std::size_t>(number - 1), &raw) != 0) {
    return error(where + " is not in its partition table; not changed");
  }
  Partition current(raw);
  std::uint64_t now_start = fdisk().partition_get_start(raw);
  std::uint64_t now_size = fdisk().partition_get_size(raw);
  if (!fdisk().partition_is_used(raw) || now_start != start ||
      (now_size != old_size && now_size != new_size)) {
    return error(where + " has changed since the plan (it starts at sector " +
                 std::to_string(now_start) + " with " + std::to_string(now_size) +
                 " sectors); not changed");
  }
  if (now_size == new_size && !fdisk().label_is_changed(fdisk().get_label(c, nullptr))) {
    return messages;  // done before; only the kernel may not know
  }
  Partition grown(fdisk().new_partition());
  if (!grown || fdisk().partition_set_size(grown.get(), new_size) != 0) {
    return error("libfdisk: out of memory");
  }
  if (int rc = fdisk().set_partition(c, static_cast<std::size_t>(number - 1), grown.get());
      rc != 0) {
    return error("libfdisk refused to grow " + where + " to " + std::to_string(new_size) +
                 " sectors: " + errno_text(rc) + (messages.empty() ? "" : " (" + messages + ")"));
  }
  if (int rc = fdisk().write_disklabel(c); rc != 0) {
    return error("cannot write the partition table of " + path + ": " + errno_text(rc));
  }
  // Closes the disk after fsync; an error here means the write may be lost.
  if (int rc = fdisk().deassign_device(c, 0); rc != 0) {
    return error("cannot sync the partition table of " + path + ": " + errno_text(rc));
  }
  return messages;
}

Result<std::string> write_partition_table(const std::string& path, const std::string& type,
                                          const std::vector<PartitionSpec>& partitions) {
  if (auto lib = libfdisk(); !lib) {
    return lib.error();
  }
  std::string messages;
  Context cxt(fdisk().new_context());
  if (!cxt) {
    return error("libfdisk: out of memory");
  }
  fdisk_context* c = cxt.get();
  fdisk().set_ask(c, collect_messages, &messages);
  if (int rc = fdisk().assign_device(c, path.c_str(), 0); rc != 0) {
    return error("cannot open " + path + ": " + errno_text(rc));
  }
  // Whatever signatures the old contents had at the start of the disk go
  // when the new table is written.
  fdisk().enable_wipe(c, 1);
  if (int rc = fdisk().create_disklabel(c, type.c_str()); rc != 0) {
    return error("libfdisk cannot make a " + type + " table on " + path + ": " + errno_text(rc));
  }
  fdisk_label* label = fdisk().get_label(c, nullptr);
  const std::uint64_t ss = fdisk().get_sector_size(c);
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    const PartitionSpec& spec = partitions[i];
    Partition pa(fdisk().new_partition());
    if (!pa) {
      return error("libfdisk: out of memory");
    }
    fdisk().partition_set_partno(pa.get(), i);
    fdisk().partition_set_start(pa.get(), spec.start / ss);
    if (spec.size > 0) {
      fdisk().partition_set_size(pa.get(), spec.size / ss);
    } else {
      fdisk().partition_end_follow_default(pa.get(), 1);
    }
    fdisk_parttype* t = nullptr;
    bool own = false;
    if (type == "dos") {
      unsigned code = static_cast<unsigned>(std::strtoul(spec.type.c_str(), nullptr, 16));
      t = fdisk().label_get_parttype_from_code(label, code);
      if (t == nullptr) {
        t = fdisk().new_unknown_parttype(code, nullptr);
        own = true;
      }
    } else {
      t = fdisk().label_get_parttype_from_string(label, spec.type.c_str());
      if (t == nullptr) {
        t = fdisk().new_unknown_parttype(0, spec.type.c_str());
        own = true;
      }
    }
    fdisk().partition_set_type(pa.get(), t);
    if (own) {
      fdisk().unref_parttype(t);
    }
    std::size_t partno = 0;
    if (int rc = fdisk().add_partition(c, pa.get(), &partno); rc != 0) {
      return error("libfdisk cannot add partition " + std::to_string(i + 1) + " to " + path + ": " +
                   errno_text(rc) + (messages.empty() ? "" : " (" + messages + ")"));
    }
    // Old data under a new partition must not look like a filesystem.
    fdisk().wipe_partition(c, partno, 1);
  }
  if (int rc = fdisk().write_disklabel(c); rc != 0) {
    return error("cannot write the partition table of " + path + ": " + errno_text(rc));
  }
  if (int rc = fdisk().deassign_device(c, 0); rc != 0) {
    return error("cannot sync the partition table of " + path + ": " + errno_text(rc));
  }
  return messages;
}

Status show_partitions_to_kernel(const std::string& disk) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string name = fs::canonical(disk, ec).filename().string();
  if (ec) {
    return error("cannot find " + disk + ": " + ec.message());
  }
  int fd = open(disk.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return error("cannot open " + disk + ": " + std::strerror(errno));
  }
  // A kernel with partition-table parsers finds them itself; one without
  // (or a busy disk) says so, and the partitions are added one by one.
  (void)ioctl(fd, BLKRRPART);
  close(fd);
  auto table = read_partition_table(disk);
  if (!table) {
    return table.error();
  }
  for (const auto& p : table->partitions) {
    std::string part = partition_device_name(name, p.number);
    if (!fs::exists("/sys/class/block/" + name + "/" + part, ec)) {
      auto added = add_kernel_partition(disk, p.number, p.start * table->sector_size,
                                        p.size * table->sector_size);
      if (!added) {
        return added.error();
      }
    }
    for (int i = 0; i < 100 && !fs::exists("/dev/" + part, ec); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!fs::exists("/dev/" + part, ec)) {
      return error("/dev/" + part + " did not appear");
    }
  }
  return {};
}

Status resize_kernel_partition(const std::string& disk, int number, std::uint64_t start,
                               std::uint64_t length) {
  return blkpg(disk, BLKPG_RESIZE_PARTITION, number, start, length);
}

Status add_kernel_partition(const std::string& disk, int number, std::uint64_t start,
                            std::uint64_t length) {
  return blkpg(disk, BLKPG_ADD_PARTITION, number, start, length);
}

}  // namespace amiboot
