// SPDX-License-Identifier: Apache-2.0
// The bench's baseline: a C++ program that does nothing, linked as amiboot
// is (static libstdc++ and libgcc), so that fork, exec and the dynamic
// loader's fixed cost are measured beside every figure.
int main() {
  return 0;
}
