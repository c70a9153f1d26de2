// SPDX-License-Identifier: Apache-2.0
// /etc/os-release as each family's images write it, for the plans that
// choose by distribution. One copy, so that every module's tests agree on
// what "Amazon Linux" or "SLES" looks like. Tests take them with
// `using namespace testing::os_release;`.
#pragma once

namespace amiboot::testing::os_release {

inline constexpr const char* kDebian = "ID=debian\nVERSION_ID=\"12\"\n";
inline constexpr const char* kUbuntu = "ID=ubuntu\nID_LIKE=debian\n";
inline constexpr const char* kAmazon = "ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n";
inline constexpr const char* kFedora = "ID=fedora\n";
inline constexpr const char* kRhel = "ID=\"rhel\"\nID_LIKE=\"fedora\"\n";
// SUSE in both forms: cloud-init tells them apart for some modules.
inline constexpr const char* kSles = "ID=\"sles\"\nID_LIKE=\"suse\"\n";
inline constexpr const char* kOpenSuse = "ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n";

}  // namespace amiboot::testing::os_release
