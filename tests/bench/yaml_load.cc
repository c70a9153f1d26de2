// SPDX-License-Identifier: Apache-2.0
// validate's floor: read one file and run yaml-cpp's parser over it, the
// parser the design card fixes, linked as amiboot is (yaml-cpp, libstdc++
// and libgcc static). amiboot builds its Values from the parser's events
// (agent/core/config_yaml.cc), so the floor is the parser with a handler
// that does nothing: what `validate` costs beyond this program is amiboot's
// own: the Values, option parsing, the schema, the module decoders, the
// output.
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace {

class Nothing final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  Nothing nothing;
  return parser.HandleNextDocument(nothing) ? 0 : 1;
}
