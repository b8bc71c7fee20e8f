// The labelled plate photos (../shared/data/lpr/<set>/X.txt: `file x y w h PLATE`) and their
// fixed split into a training half and a held-out half.
//
// The split is by the photo's file name alone (FNV-1a, 32 bits, of e.g. "car18.jpg"; even =
// training), so it never changes with the order of files, the machine or the code around it.
// The plate character model (scripts/train-plate-model) reads only training photos; the
// accuracy benchmark reports the held-out photos as its figures. Header-only: shared by
// bench/accuracy/lpr_accuracy.cc and tools/train/train_plate_chars.cc.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace scanline {

struct PlateLabel {
  std::string image;                  // path
  std::string name;                   // the image's file name
  double x = 0, y = 0, w = 0, h = 0;  // the plate's box, pixels
  std::string plate;                  // A-Z0-9, upper case
};

// FNV-1a of the file name, even = training photo.
inline bool IsTrainingPhoto(std::string_view file_name) {
  uint32_t h = 2166136261u;
  for (char c : file_name) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h % 2 == 0;
}

// Every labelled photo of `dir`, sorted by label file name; lines that do not parse are
// skipped.
inline std::vector<PlateLabel> LoadPlateLabels(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<PlateLabel> labels;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    if (!std::getline(in, line)) continue;
    std::istringstream fields(line);
    PlateLabel l;
    fields >> l.name >> l.x >> l.y >> l.w >> l.h >> l.plate;
    if (!fields) continue;
    l.image = dir + "/" + l.name;
    for (char& c : l.plate) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    labels.push_back(l);
  }
  return labels;
}

}  // namespace scanline
