// SPDX-License-Identifier: Apache-2.0
// `amiboot analyze plot`: the SVG of a real run, rendered by headless
// Chromium, shows the timeline and the module names (pixels checked
// against a rendering with the names left out). Skips when no Chromium.
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

// An 8-bit RGB or RGBA PNG, decoded to RGB.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;
  int luminance(int x, int y) const {
    const auto* p = &rgb[(static_cast<std::size_t>(y) * width + x) * 3];
    return (p[0] * 299 + p[1] * 587 + p[2] * 114) / 1000;
  }
};

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) |
         (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint8_t(s[at + 3]);
}

// PNG: the IHDR, the IDATs inflated, each row unfiltered (PNG spec, 9).
std::optional<Image> decode_png(const std::string& png) {
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    return std::nullopt;
  }
  Image img;
  int channels = 0;
  std::string idat;
  for (std::size_t at = 8; at + 8 <= png.size();) {
    std::uint32_t len = be32(png, at);
    std::string type = png.substr(at + 4, 4);
    if (type == "IHDR") {
      img.width = static_cast<int>(be32(png, at + 8));
      img.height = static_cast<int>(be32(png, at + 12));
      int depth = png[at + 16];
      int color = png[at + 17];
      int interlace = png[at + 20];
      if (depth != 8 || (color != 2 && color != 6) || interlace != 0) {
        return std::nullopt;
      }
      channels = color == 6 ? 4 : 3;
    } else if (type == "IDAT") {
      idat += png.substr(at + 8, len);
    }
    at += 12 + len;
  }
  std::size_t stride = static_cast<std::size_t>(img.width) * channels;
  std::vector<std::uint8_t> raw((stride + 1) * img.height);
  uLongf raw_len = raw.size();
  if (channels == 0 ||
      uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_len != raw.size()) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> prev(stride, 0);
  std::vector<std::uint8_t> cur(stride);
  img.rgb.resize(static_cast<std::size_t>(img.width) * img.height * 3);
  for (int y = 0; y < img.height; ++y) {
    const std::uint8_t* line = &raw[y * (stride + 1)];
    int filter = line[0];
    for (std::size_t i = 0; i < stride; ++i) {
      int a = i >= static_cast<std::size_t>(channels) ? cur[i - channels] : 0;
      int b = prev[i];
      int c = i >= static_cast<std::size_t>(channels) ? prev[i - channels] : 0;
      int pred = 0;
      switch (filter) {
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        case 4: {
          int p = a + b - c;
          int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          break;
      }
      cur[i] = static_cast<std::uint8_t>(line[1 + i] + pred);
    }
    for (int x = 0; x < img.width; ++x) {
      for (int k = 0; k < 3; ++k) {
        img.rgb[(static_cast<std::size_t>(y) * img.width + x) * 3 + k] = cur[x * channels + k];
      }
    }
    prev = cur;
  }
  return img;
}

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/snap/bin"}) {
      std::string path = std::string(dir) + "/" + name;
      if (access(path.c_str(), X_OK) == 0) {
        return path;
      }
    }
  }
  return "";
}

std::optional<Image> screenshot(const std::string& chromium, const std::string& svg_path,
                                const std::string& png_path, int width, int height) {
  auto r = run({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                "--screenshot=" + png_path, "file://" + svg_path},
               {{"HOME", svg_path.substr(0, svg_path.rfind('/'))}});
  if (r.exit_code != 0 || !exists(png_path)) {
    ADD_FAILURE() << "chromium failed (" << r.exit_code << "): " << r.err;
    return std::nullopt;
  }
  return decode_png(read_file(png_path));
}

// Dark pixels (text is #111) in a box.
int dark_pixels(const Image& img, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = std::max(0, y0); y < std::min(img.height, y1); ++y) {
    for (int x = std::max(0, x0); x < std::min(img.width, x1); ++x) {
      n += img.luminance(x, y) < 100 ? 1 : 0;
    }
  }
  return n;
}

TEST(AnalyzePlot, ChromiumRendersTheTimelineWithTheModuleNames) {
  std::string chromium = find_chromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "no chromium (apt-get install chromium): the SVG is not rendered";
  }
  TempDir dir;
  std::filesystem::create_directories(dir / "root");
  auto boot = run(
      {amiboot_binary(), "run", "--root", dir / "root", "--seed", source_dir() + "/examples/seed"},
      {{"AMIBOOT_LOG", "stderr"}});
  ASSERT_EQ(boot.exit_code, 0) << boot.err;
  auto plot = run({amiboot_binary(), "analyze", "plot", "--root", dir / "root"});
  ASSERT_EQ(plot.exit_code, 0) << plot.err;
  const std::string& svg = plot.out;

  std::smatch size;
  ASSERT_TRUE(std::regex_search(svg, size, std::regex(R"re(width="(\d+)" height="(\d+)")re")));
  int width = std::stoi(size[1]);
  int height = std::stoi(size[2]);
  // Where the SVG puts the label of each module that ran.
  struct Label {
    std::string name;
    int x, y;
  };
  std::vector<Label> labels;
  std::regex label_re(
      R"re(<text x="([\d.]+)" y="([\d.]+)" fill="#111111">([a-z_]+) \d+ ms</text>)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), label_re);
       it != std::sregex_iterator(); ++it) {
    labels.push_back(
        {(*it)[3], static_cast<int>(std::stod((*it)[1])), static_cast<int>(std::stod((*it)[2]))});
  }
  std::vector<std::string> names;
  for (const auto& l : labels) {
    names.push_back(l.name);
  }
  for (const char* m : {"bootcmd", "write_files", "scripts_user"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), m), names.end()) << m << " has no label:\n"
                                                                     << svg;
  }
  ASSERT_FALSE(labels.empty());

  // The same plot with each module's name hidden (laid out, not drawn).
  std::string nameless =
      std::regex_replace(svg, std::regex(R"re((fill="#111111">)([a-z_]+)( \d+ ms</text>))re"),
                         "$1<tspan visibility=\"hidden\">$2</tspan>$3");
  write_file(dir / "boot.svg", svg);
  write_file(dir / "nameless.svg", nameless);
  auto shot = screenshot(chromium, dir / "boot.svg", dir / "boot.png", width, height);
  auto blank = screenshot(chromium, dir / "nameless.svg", dir / "nameless.png", width, height);
  ASSERT_TRUE(shot && blank) << "the screenshots are not 8-bit RGB(A) PNGs";
  ASSERT_EQ(shot->width, width);
  ASSERT_EQ(shot->height, height);

  // Not blank: bars and text cover a good part of the picture.
  int non_white = 0;
  for (int y = 0; y < shot->height; ++y) {
    for (int x = 0; x < shot->width; ++x) {
      non_white += shot->luminance(x, y) < 240 ? 1 : 0;
    }
  }
  EXPECT_GT(non_white, width * height / 50) << "the screenshot is (nearly) blank";

  // Each module name draws dark pixels where the SVG put it, which the
  // rendering without the names does not have there.
  for (const auto& l : labels) {
    int box_w = static_cast<int>(l.name.size()) * 6;
    int with = dark_pixels(*shot, l.x, l.y - 11, l.x + box_w, l.y + 3);
    int without = dark_pixels(*blank, l.x, l.y - 11, l.x + box_w, l.y + 3);
    EXPECT_GT(with, 10 * static_cast<int>(l.name.size()) / 2) << l.name << " is not drawn";
    EXPECT_LT(without, with / 4) << l.name << ": the nameless rendering is as dark there";
  }
}

}  // namespace
}  // namespace amiboot::testing
