// SPDX-License-Identifier: Apache-2.0
// validate's floor: read one file and hand it to yaml-cpp's YAML::Load, the
// parser the design card fixes, linked as amiboot is (yaml-cpp, libstdc++
// and libgcc static). What `validate` costs beyond this program is amiboot's
// own: option parsing, the schema, the module decoders, the output.
#include <fstream>
#include <iterator>
#include <string>

#include <yaml-cpp/yaml.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return YAML::Load(text).IsMap() ? 0 : 1;
}
