// Reading OCR JSON back (see core/ocr_json.h).
#include "core/ocr_json.h"

#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace scanline {
namespace {

PixelBox Box(const rapidjson::Value& v) {
  PixelBox b;
  if (!v.IsObject()) return b;
  auto get = [&](const char* k) { return v.HasMember(k) && v[k].IsInt() ? v[k].GetInt() : 0; };
  b.x = get("x");
  b.y = get("y");
  b.w = get("w");
  b.h = get("h");
  return b;
}

float Number(const rapidjson::Value& v, const char* k) {
  return v.HasMember(k) && v[k].IsNumber() ? static_cast<float>(v[k].GetDouble()) : 0.f;
}

std::string Text(const rapidjson::Value& v, const char* k) {
  return v.HasMember(k) && v[k].IsString() ? std::string(v[k].GetString(), v[k].GetStringLength())
                                           : std::string();
}

std::vector<OcrPage> Pages(const rapidjson::Value& doc) {
  if (!doc.IsObject() || !doc.HasMember("pages") || !doc["pages"].IsArray()) {
    throw Error(ErrorCode::kBadRequest, "not OCR JSON: no \"pages\" array");
  }
  std::vector<OcrPage> pages;
  for (const auto& p : doc["pages"].GetArray()) {
    OcrPage page;
    page.width = p.HasMember("width") && p["width"].IsInt() ? p["width"].GetInt() : 0;
    page.height = p.HasMember("height") && p["height"].IsInt() ? p["height"].GetInt() : 0;
    page.text = Text(p, "text");
    page.mean_confidence = Number(p, "mean_confidence");
    if (p.HasMember("blocks") && p["blocks"].IsArray()) {
      for (const auto& b : p["blocks"].GetArray()) {
        OcrBlock block;
        if (b.HasMember("box")) block.box = Box(b["box"]);
        if (b.HasMember("lines") && b["lines"].IsArray()) {
          for (const auto& l : b["lines"].GetArray()) {
            OcrLine line;
            line.text = Text(l, "text");
            line.confidence = Number(l, "confidence");
            if (l.HasMember("box")) line.box = Box(l["box"]);
            if (l.HasMember("words") && l["words"].IsArray()) {
              for (const auto& w : l["words"].GetArray()) {
                OcrWord word;
                word.text = Text(w, "text");
                word.confidence = Number(w, "confidence");
                if (w.HasMember("box")) word.box = Box(w["box"]);
                line.words.push_back(std::move(word));
                ++page.word_count;
              }
            }
            block.lines.push_back(std::move(line));
          }
        }
        page.blocks.push_back(std::move(block));
      }
    }
    pages.push_back(std::move(page));
  }
  return pages;
}

}  // namespace

std::vector<OcrPage> OcrPagesFromJson(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) throw Error(ErrorCode::kBadRequest, "not OCR JSON: not JSON");
  return Pages(doc);
}

std::map<std::string, std::vector<OcrPage>> ReadOcrJsonLines(const std::string& path) {
  std::map<std::string, std::vector<OcrPage>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("file") ||
        !doc["file"].IsString()) {
      continue;
    }
    try {
      out[std::filesystem::path(doc["file"].GetString()).filename().string()] = Pages(doc);
    } catch (const Error&) {
      continue;
    }
  }
  return out;
}

}  // namespace scanline
