// SPDX-License-Identifier: Apache-2.0
// The volumes module end to end: the real agent against the fake IMDS, in a
// sandbox root, with real loop devices standing in for EBS volumes. The
// block-device-mapping says `ebs1: sdf`; AMIBOOT_TEST_DEV_DIR points the
// agent at a folder where the test links sdf to /dev/loopN (there is no udev
// here, and the real /dev is not ours to change).
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/agent_on_loop_devices.h"
#include "tests/support/fake_imds.h"
#include "tests/support/loop_device.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr unsigned long long kMiB = 1ull << 20;

const char* kDataVolume = R"(#cloud-config
fs_setup:
  - {device: ebs1, filesystem: ext4, label: data}
mounts:
  - [ebs1, /data]
)";

class VolumesOnLoopDevices : public AgentOnLoopDevices {
 protected:
  void SetUp() override {
    AgentOnLoopDevices::SetUp();
    imds.set("meta-data/block-device-mapping/ebs1", "sdf");
  }
  void TearDown() override {
    AgentOnLoopDevices::TearDown();
    loops.clear();
  }

  /// A loop device over a fresh sparse image; `prepare` edits the image first.
  /// With `partitions`, the loop device may have partitions (disk_setup).
  LoopDevice* attach(const std::string& name, unsigned long long bytes,
                     const std::function<void(const std::string&)>& prepare = {},
                     bool partitions = false) {
    std::string image = images / name;
    run({"truncate", "-s", std::to_string(bytes), image});
    if (prepare) {
      prepare(image);
    }
    loops.push_back(std::make_unique<LoopDevice>(image, bytes, partitions));
    if (!loops.back()->ok()) {
      ADD_FAILURE() << loops.back()->error();
      return nullptr;
    }
    return loops.back().get();
  }
  /// devdir/NAME -> the loop device: how the agent finds it as /dev/NAME.
  void present_as(const std::string& name, const LoopDevice& loop) {
    fs::create_symlink(loop.path(), devdir() + "/" + name);
  }
  void image_config(const std::string& yaml) {
    fs::create_directories(root / "etc/amiboot");
    write_file(root / "etc/amiboot/amiboot.yaml", yaml);
  }
  /// Sources mounted at the sandbox path `dir`.
  std::vector<std::string> mounted_at(const std::string& dir) {
    std::vector<std::string> out;
    std::string target = root / dir.substr(1);
    for (const auto& [source, t] : mount_table()) {
      if (t == target) {
        out.push_back(source);
      }
    }
    return out;
  }
  std::string blkid(const std::string& device, const std::string& tag) {
    auto r = run({"blkid", "-p", "-o", "value", "-s", tag, device});
    return r.out.substr(0, r.out.find('\n'));
  }
  std::string fstab() { return exists(root / "etc/fstab") ? read_file(root / "etc/fstab") : ""; }
  static std::size_t hash_head(const std::string& image, std::size_t bytes) {
    std::ifstream in(image, std::ios::binary);
    std::string data(bytes, '\0');
    in.read(data.data(), static_cast<std::streamsize>(bytes));
    return std::hash<std::string>{}(data);
  }

  std::vector<std::unique_ptr<LoopDevice>> loops;
};

TEST_F(VolumesOnLoopDevices, BlankVolumeGetsExt4MountedByUuidAndASecondRunChangesNothing) {
  LoopDevice* loop = attach("ebs1.img", 64 * kMiB);
  ASSERT_TRUE(loop);
  present_as("sdf", *loop);
  write_file(root / "etc/fstab", "# image fstab\nLABEL=root / ext4 defaults 0 1\n");
  imds.set_user_data(kDataVolume);

  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(blkid(loop->path(), "TYPE"), "ext4");
  EXPECT_EQ(blkid(loop->path(), "LABEL"), "data");
  std::string uuid = blkid(loop->path(), "UUID");
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(mounted_at("/data"), std::vector<std::string>{loop->path()});
  std::string first_fstab = fstab();
  EXPECT_EQ(first_fstab,
            "# image fstab\nLABEL=root / ext4 defaults 0 1\n# amiboot: ebs1\nUUID=" + uuid +
                "\t/data\tauto\tdefaults,nofail,x-systemd.device-timeout=30s\t0\t2\n");
  EXPECT_NE(r.err.find("running mkfs.ext4 on ebs1 (" + loop->path() + ")"), std::string::npos)
      << r.err;
  EXPECT_EQ(module("volumes")["result"], "ok");
  write_file(root / "data/kept", "written after the first boot\n");

  // Again in the same boot: nothing runs.
  r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("volumes")["reason"], "already ran for this instance");

  // A new instance from this image runs the per-instance module again: the
  // filesystem is already there, the fstab is already right.
  reboot();
  imds.set_instance_id("i-0000000000000000d");
  r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("volumes")["result"], "skipped");
  EXPECT_EQ(module("volumes")["reason"], "nothing to do");
  EXPECT_EQ(r.err.find("mkfs"), std::string::npos) << r.err;
  EXPECT_EQ(fstab(), first_fstab);
  EXPECT_EQ(blkid(loop->path(), "UUID"), uuid);
  EXPECT_EQ(read_file(root / "data/kept"), "written after the first boot\n");
  EXPECT_EQ(mounted_at("/data").size(), 1u);
}

TEST_F(VolumesOnLoopDevices, BlankVolumeGetsXfs) {
  if (run({"sh", "-c", "command -v mkfs.xfs"}).exit_code != 0) {
    std::cout << "skipping: mkfs.xfs (xfsprogs) is not installed\n";
    GTEST_SKIP() << "mkfs.xfs (xfsprogs) is not installed";
  }
  LoopDevice* loop = attach("ebs1.img", 320 * kMiB);  // mkfs.xfs wants 300 MB
  ASSERT_TRUE(loop);
  present_as("sdf", *loop);
  imds.set_user_data(R"(#cloud-config
fs_setup:
  - {device: ebs1, filesystem: xfs, label: logs}
mounts:
  - [ebs1, /var/log/app, xfs]
)");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(blkid(loop->path(), "TYPE"), "xfs");
  EXPECT_EQ(mounted_at("/var/log/app"), std::vector<std::string>{loop->path()});
  EXPECT_EQ(fstab(),
            "# amiboot: ebs1\nUUID=" + blkid(loop->path(), "UUID") +
                "\t/var/log/app\txfs\tdefaults,nofail,x-systemd.device-timeout=30s\t0\t2\n");
}

TEST_F(VolumesOnLoopDevices, VolumeWithAFilesystemIsMountedNotFormatted) {
  LoopDevice* loop = attach("ebs1.img", 64 * kMiB);
  ASSERT_TRUE(loop);
  // A volume restored from a snapshot: a filesystem with data on it.
  ASSERT_EQ(run({"mkfs.ext4", "-q", "-L", "data", loop->path()}).exit_code, 0);
  TempDir mnt;
  ASSERT_EQ(run({"mount", loop->path(), mnt.path()}).exit_code, 0);
  write_file(mnt / "precious", "do not lose me\n");
  ASSERT_EQ(run({"umount", mnt.path()}).exit_code, 0);
  std::string uuid = blkid(loop->path(), "UUID");
  present_as("sdf", *loop);
  imds.set_user_data(kDataVolume);

  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("mkfs"), std::string::npos) << r.err;
  EXPECT_EQ(blkid(loop->path(), "UUID"), uuid);
  EXPECT_EQ(mounted_at("/data"), std::vector<std::string>{loop->path()});
  EXPECT_EQ(read_file(root / "data/precious"), "do not lose me\n");
  EXPECT_NE(fstab().find("UUID=" + uuid + "\t/data\t"), std::string::npos) << fstab();
}

TEST_F(VolumesOnLoopDevices, DiskWithOnlyAPartitionTableIsRefusedAndLeftUntouched) {
  if (run({"sh", "-c", "command -v sfdisk"}).exit_code != 0) {
    std::cout << "skipping: sfdisk (fdisk) is not installed\n";
    GTEST_SKIP() << "sfdisk (fdisk) is not installed";
  }
  std::size_t before = 0;
  std::string image;
  LoopDevice* loop = attach("ebs1.img", 64 * kMiB, [&](const std::string& path) {
    auto r = run({"sfdisk", "-q", path}, {}, "label: dos\n,,83\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    image = path;
    before = hash_head(path, 64 * kMiB);
  });
  ASSERT_TRUE(loop);
  ASSERT_EQ(blkid(loop->path(), "PTTYPE"), "dos");
  present_as("sdf", *loop);
  write_file(root / "etc/fstab", "LABEL=root / ext4 defaults 0 1\n");
  imds.set_user_data(kDataVolume);

  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("fs_setup[0]: refusing to create ext4 on ebs1 (" + loop->path() +
                       "): it carries a partition table (dos)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(module("volumes")["result"], "failed");
  EXPECT_EQ(r.err.find("running mkfs"), std::string::npos) << r.err;
  EXPECT_EQ(hash_head(image, 64 * kMiB), before);  // every byte of the disk
  EXPECT_EQ(blkid(loop->path(), "TYPE"), "");
  EXPECT_TRUE(mounted_at("/data").empty());
  EXPECT_EQ(fstab(), "LABEL=root / ext4 defaults 0 1\n");
}

TEST_F(VolumesOnLoopDevices, ForeignFstabLinesAndCommentsAreKeptByteForByte) {
  LoopDevice* loop = attach("ebs1.img", 64 * kMiB);
  ASSERT_TRUE(loop);
  present_as("sdf", *loop);
  const std::string foreign =
      "# /etc/fstab: static file system information.\n"
      "#\n"
      "# <file system> <mount point>   <type>  <options>       <dump>  <pass>\n"
      "UUID=0a1b2c3d-root  /   ext4    errors=remount-ro 0       1\n"
      "\n"
      "/dev/xvdz\t/media/old\tauto\tdefaults,nofail\t0\t2\r\n"
      "server:/export /mnt/my\\040share nfs rw,noauto 0 0   # team share\n"
      "\t  # indented comment, trailing blanks   \n";
  write_file(root / "etc/fstab", foreign);
  imds.set_user_data(kDataVolume);
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string after = fstab();
  ASSERT_GT(after.size(), foreign.size());
  EXPECT_EQ(after.substr(0, foreign.size()), foreign);
  EXPECT_EQ(after.substr(foreign.size()),
            "# amiboot: ebs1\nUUID=" + blkid(loop->path(), "UUID") +
                "\t/data\tauto\tdefaults,nofail,x-systemd.device-timeout=30s\t0\t2\n");
  // The rewrite is atomic: no temporary file is left next to it.
  for (const auto& entry : fs::directory_iterator(root / "etc")) {
    EXPECT_EQ(entry.path().filename().string().find(".fstab.amiboot-"), std::string::npos);
  }
}

TEST_F(VolumesOnLoopDevices, VolumeThatAppearsLateIsWaitedFor) {
  LoopDevice* loop = attach("ebs1.img", 64 * kMiB);
  ASSERT_TRUE(loop);
  image_config("amiboot:\n  volumes:\n    device_timeout_seconds: 20\n");
  imds.set_user_data(kDataVolume);
  std::thread attach_late([&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    present_as("sdf", *loop);
  });
  auto started = Clock::now();
  auto r = run_agent();
  auto waited = Clock::now() - started;
  attach_late.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(waited, std::chrono::seconds(3));
  EXPECT_LT(waited, std::chrono::seconds(15));
  EXPECT_EQ(mounted_at("/data"), std::vector<std::string>{loop->path()});
  EXPECT_EQ(blkid(loop->path(), "TYPE"), "ext4");
}

TEST_F(VolumesOnLoopDevices, AVolumeNotAttachedIsAWarningAtTheBoundThenMadeAndMountedWhenItComes) {
  LoopDevice* loop = attach("ebs1.img", 64 * kMiB);
  LoopDevice* late = attach("ebs2.img", 64 * kMiB);
  ASSERT_TRUE(loop && late);
  present_as("sdf", *loop);
  imds.set("meta-data/block-device-mapping/ebs2", "sdg");  // not attached yet
  image_config("amiboot:\n  volumes:\n    device_timeout_seconds: 2\n");
  imds.set_user_data(R"(#cloud-config
fs_setup:
  - {device: ebs2, filesystem: ext4, label: logs}
  - {device: ebs1, filesystem: ext4}
mounts:
  - [ebs2, /logs]
  - [ebs1, /data]
)");
  auto started = Clock::now();
  auto r = run_agent();
  auto waited = Clock::now() - started;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(waited, std::chrono::seconds(2));
  EXPECT_LT(waited, std::chrono::seconds(10));  // one deadline, not one per entry or row
  auto m = module("volumes");
  EXPECT_EQ(m["result"], "ok");
  EXPECT_TRUE(m["errors"].empty()) << m.dump();
  // The wait is real time: on a loaded machine it can end a tenth or two
  // after the 2 s deadline.
  EXPECT_THAT(
      m["summary"].get<std::string>(),
      ::testing::MatchesRegex("waited 2\\.[0-9] s for devices \\(at most 2 s\\); not attached: "
                              "ebs2; pending until they are: fs_setup\\[0\\], mounts\\[0\\]"));
  EXPECT_EQ(module("mounts")["duration_ms"].get<long long>() < 1000, true);
  auto doc = nlohmann::json::parse(read_file(root / "run/amiboot/status.json"));
  EXPECT_EQ(doc["status"], "done");
  ASSERT_GE(doc["warnings"].size(), 2u) << doc["warnings"].dump();  // and the sandbox's own
  // In report order: users, beside the volumes lane, is reported before it.
  EXPECT_THAT(
      doc["warnings"].get<std::vector<std::string>>(),
      ::testing::Contains(
          "user-data:3:5: fs_setup[0]: ebs2 did not appear within 2 s (looked for /dev/sdg, "
          "/dev/xvdg, /dev/vdg and NVMe volumes named sdg (ebs2 is sdg in the "
          "block-device-mapping)); left pending, looked at again on every boot"));
  EXPECT_EQ(mounted_at("/data"), std::vector<std::string>{loop->path()});
  EXPECT_TRUE(mounted_at("/logs").empty());
  EXPECT_EQ(fstab(), "# amiboot: ebs1\nUUID=" + blkid(loop->path(), "UUID") +
                         "\t/data\tauto\tdefaults,nofail,x-systemd.device-timeout=2s\t0\t2\n");
  EXPECT_TRUE(exists(root / "var/lib/amiboot/instances/i-0123456789abcdef0/volumes-pending.json"));
  auto st = run({amiboot_binary(), "status", "--long", "--root", root.path()});
  EXPECT_EQ(st.exit_code, 0) << st.out;
  EXPECT_NE(st.out.find("status: done"), std::string::npos) << st.out;
  EXPECT_THAT(st.out, ::testing::ContainsRegex("waited 2\\.[0-9] s for devices \\(at most 2 s\\); "
                                               "not attached: ebs2"));
  EXPECT_NE(st.out.find("warning: user-data:3:5: fs_setup[0]: ebs2 did not appear"),
            std::string::npos)
      << st.out;

  // Attached while the instance was stopped: the next boot makes its
  // filesystem (it is blank), writes its fstab line and mounts it.
  present_as("sdg", *late);
  reboot();
  r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("volumes")["reason"], "already ran for this instance");
  m = module("mounts");
  EXPECT_EQ(m["result"], "ok") << m.dump();
  EXPECT_EQ(blkid(late->path(), "TYPE"), "ext4");
  EXPECT_EQ(blkid(late->path(), "LABEL"), "logs");
  EXPECT_EQ(mounted_at("/logs"), std::vector<std::string>{late->path()});
  EXPECT_EQ(mounted_at("/data"), std::vector<std::string>{loop->path()});
  EXPECT_EQ(fstab(), "# amiboot: ebs1\nUUID=" + blkid(loop->path(), "UUID") +
                         "\t/data\tauto\tdefaults,nofail,x-systemd.device-timeout=2s\t0\t2\n"
                         "# amiboot: ebs2\nUUID=" +
                         blkid(late->path(), "UUID") +
                         "\t/logs\tauto\tdefaults,nofail,x-systemd.device-timeout=2s\t0\t2\n");
  EXPECT_FALSE(exists(root / "var/lib/amiboot/instances/i-0123456789abcdef0/volumes-pending.json"));

  // And the boot after that: nothing left to do.
  reboot();
  r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("mounts")["reason"], "nothing to do");
  EXPECT_EQ(r.err.find("mkfs"), std::string::npos) << r.err;
}

TEST_F(VolumesOnLoopDevices, RootedRunWithoutATestDeviceFolderTouchesNoHostDisk) {
  LoopDevice* loop = attach("host.img", 64 * kMiB);
  ASSERT_TRUE(loop);
  image_config("amiboot:\n  volumes:\n    device_timeout_seconds: 1\n");
  imds.set_user_data("#cloud-config\nfs_setup:\n  - {device: " + loop->path() +
                     ", filesystem: ext4}\nmounts:\n  - [" + loop->path() + ", /data]\n");
  // An image build or a test run without AMIBOOT_TEST_DEV_DIR.
  auto r = run({amiboot_binary(), "run", "--root", root.path(), "--imds", imds.url()},
               {{"AMIBOOT_LOG", "stderr"}});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("fs_setup[0]: " + loop->path() + " did not appear within 1 s"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(blkid(loop->path(), "TYPE"), "");
  EXPECT_TRUE(mounted_at("/data").empty());
}

TEST_F(VolumesOnLoopDevices, NextBootMountsOurEntriesThatAreNotMounted) {
  LoopDevice* loop = attach("ebs1.img", 64 * kMiB);
  ASSERT_TRUE(loop);
  present_as("sdf", *loop);
  imds.set_user_data(kDataVolume);
  ASSERT_EQ(run_agent().exit_code, 0);
  write_file(root / "data/kept", "boot 1\n");
  std::string first_fstab = fstab();
  // A reboot where systemd could not mount it (the volume attached late).
  unmount_all_under(root / "data");
  ASSERT_TRUE(mounted_at("/data").empty());
  reboot();
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("volumes")["reason"], "already ran for this instance");
  EXPECT_EQ(module("mounts")["result"], "ok");
  EXPECT_EQ(mounted_at("/data"), std::vector<std::string>{loop->path()});
  EXPECT_EQ(read_file(root / "data/kept"), "boot 1\n");
  EXPECT_EQ(fstab(), first_fstab);
}

TEST_F(VolumesOnLoopDevices, DiskSetupPartitionsABlankVolumeThenItsPartitionsAreMadeAndMounted) {
  if (run({"sh", "-c", "command -v sfdisk"}).exit_code != 0) {
    std::cout << "skipping: sfdisk (fdisk) is not installed\n";
    GTEST_SKIP() << "sfdisk (fdisk) is not installed";
  }
  LoopDevice* loop = attach("ebs1.img", 128 * kMiB, {}, true);
  ASSERT_TRUE(loop);
  present_as("sdf", *loop);
  imds.set_user_data(R"(#cloud-config
disk_setup:
  ebs1: {table_type: gpt, layout: [25, [75, 8300]]}
fs_setup:
  - {device: ebs1.1, filesystem: ext4, label: small}
  - {device: ebs1, partition: 2, filesystem: ext4, label: big}
mounts:
  - [ebs1.1, /small]
  - [ebs1.2, /big]
)");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("volumes")["result"], "ok");
  std::string p1 = loop->path() + "p1", p2 = loop->path() + "p2";
  EXPECT_EQ(blkid(loop->path(), "PTTYPE"), "gpt");
  auto dump = run({"sfdisk", "-d", loop->path()});
  EXPECT_NE(dump.out.find(p1 + " : start=        2048, size=       65536, type=0FC63DAF-8483-"
                               "4772-8E79-3D69D8477DE4"),
            std::string::npos)
      << dump.out;
  EXPECT_NE(dump.out.find(p2 + " : start=       67584, size=      192512,"), std::string::npos)
      << dump.out;
  auto verify = run({"sfdisk", "--verify", loop->path()});
  EXPECT_NE(verify.out.find("No errors detected"), std::string::npos) << verify.out;
  EXPECT_EQ(blkid(p1, "LABEL"), "small");
  EXPECT_EQ(blkid(p2, "LABEL"), "big");
  EXPECT_EQ(mounted_at("/small"), std::vector<std::string>{p1});
  EXPECT_EQ(mounted_at("/big"), std::vector<std::string>{p2});
  EXPECT_NE(fstab().find("# amiboot: ebs1.2\nUUID=" + blkid(p2, "UUID") + "\t/big\t"),
            std::string::npos)
      << fstab();
  EXPECT_NE(r.err.find("disk_setup ebs1: wrote a gpt partition table with 2 partition(s) on " +
                       loop->path()),
            std::string::npos)
      << r.err;

  // A new instance from this volume: the layout is there, nothing is redone.
  unmount_all_under(root.path());
  reboot();
  imds.set_instance_id("i-0000000000000000d");
  r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("disk_setup ebs1:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("mkfs"), std::string::npos) << r.err;
  EXPECT_EQ(blkid(p2, "LABEL"), "big");
}

TEST_F(VolumesOnLoopDevices, DiskSetupLeavesAVolumeWithAFilesystemAloneWithoutOverwrite) {
  LoopDevice* loop = attach("ebs1.img", 64 * kMiB, {}, true);
  ASSERT_TRUE(loop);
  ASSERT_EQ(run({"mkfs.ext4", "-q", "-L", "precious", loop->path()}).exit_code, 0);
  std::string image = images / "ebs1.img";
  std::size_t before = hash_head(image, 64 * kMiB);
  present_as("sdf", *loop);
  imds.set_user_data("#cloud-config\ndisk_setup:\n  ebs1: {table_type: mbr, layout: true}\n");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(hash_head(image, 64 * kMiB), before);  // every byte of the disk
  EXPECT_EQ(blkid(loop->path(), "PTTYPE"), "");
  EXPECT_EQ(blkid(loop->path(), "LABEL"), "precious");
  auto doc = nlohmann::json::parse(read_file(root / "run/amiboot/status.json"));
  EXPECT_THAT(doc["warnings"].get<std::vector<std::string>>(),
              ::testing::Contains("user-data:3:9: disk_setup.ebs1: left ebs1 (" + loop->path() +
                                  ") as it is: it carries a filesystem (ext4, label 'precious'); "
                                  "overwrite: true destroys it"));
  // overwrite: true destroys it (a new instance, so the volumes row runs again).
  reboot();
  imds.set_instance_id("i-0000000000000000e");
  imds.set_user_data(
      "#cloud-config\ndisk_setup:\n  ebs1: {table_type: mbr, layout: true, overwrite: true}\n"
      "fs_setup:\n  - {device: ebs1.1, filesystem: ext4, label: fresh}\n");
  r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(blkid(loop->path(), "PTTYPE"), "dos");
  EXPECT_EQ(blkid(loop->path() + "p1", "LABEL"), "fresh");
}

}  // namespace
}  // namespace amiboot::testing
