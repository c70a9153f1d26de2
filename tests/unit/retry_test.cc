// SPDX-License-Identifier: Apache-2.0
#include "agent/retry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace amiboot {
namespace {

using std::chrono::milliseconds;

RetryPolicy policy(int initial_ms, int cap_ms, double factor = 2.0) {
  RetryPolicy p;
  p.initial = milliseconds{initial_ms};
  p.cap = milliseconds{cap_ms};
  p.factor = factor;
  return p;
}

std::vector<long> schedule(Backoff& backoff, int n) {
  std::vector<long> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(static_cast<long>(backoff.delay(i).count()));
  }
  return out;
}

TEST(RetryBackoff, DelaysGrowWithinTheirJitterBandUntilTheCap) {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Backoff backoff(policy(100, 2000), seed);
    const std::vector<long> delays = schedule(backoff, 10);
    long base = 100;
    for (int i = 0; i < 10; ++i) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " attempt " + std::to_string(i));
      EXPECT_GE(delays[i], base / 2);
      EXPECT_LE(delays[i], base);
      base = std::min(base * 2, 2000L);
    }
    // While doubling, bands [b/2, b] then [b, 2b] touch but never overlap, so
    // the schedule never shrinks whatever the jitter draws (bases 100..1600).
    EXPECT_TRUE(std::is_sorted(delays.begin(), delays.begin() + 5));
    EXPECT_GE(delays[5], 1000);  // 100 * 2^5 = 3200, capped to 2000: at least half
  }
}

TEST(RetryBackoff, LateAttemptsStayCappedWithoutOverflow) {
  Backoff backoff(policy(100, 2000), 42);
  for (int attempt : {20, 62, 63, 64, 1000, 1 << 30}) {
    SCOPED_TRACE(attempt);
    const long d = static_cast<long>(backoff.delay(attempt).count());
    EXPECT_GE(d, 1000);
    EXPECT_LE(d, 2000);
  }
}

TEST(RetryBackoff, JitterCoversHalfToFullBase) {
  Backoff backoff(policy(1000, 1000), 7);
  long lo = 1000000;
  long hi = 0;
  for (int i = 0; i < 2000; ++i) {
    const long d = static_cast<long>(backoff.delay(0).count());
    ASSERT_GE(d, 500);
    ASSERT_LE(d, 1000);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // Jitter is the point: instances booting together must not retry in lockstep.
  EXPECT_LT(lo, 550);
  EXPECT_GT(hi, 950);
}

TEST(RetryBackoff, SameSeedSameSchedule) {
  Backoff a(policy(10, 5000), 1234);
  Backoff b(policy(10, 5000), 1234);
  Backoff c(policy(10, 5000), 4321);
  const std::vector<long> first = schedule(a, 12);
  EXPECT_EQ(first, schedule(b, 12));
  EXPECT_NE(first, schedule(c, 12));
}

TEST(RetryBackoff, ZeroInitialMeansNoWait) {
  Backoff backoff(policy(0, 2000), 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(backoff.delay(i), milliseconds{0});
  }
}

TEST(RetryBackoff, FactorShapesTheGrowth) {
  Backoff backoff(policy(100, 100000, 3.0), 9);
  const long d = static_cast<long>(backoff.delay(3).count());  // base 100 * 27 = 2700
  EXPECT_GE(d, 1350);
  EXPECT_LE(d, 2700);
}

}  // namespace
}  // namespace amiboot
