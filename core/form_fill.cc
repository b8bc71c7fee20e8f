// Auto-fill of blank forms (see core/form_fill.h).
#include "core/form_fill.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/config.h"
#include "core/detail/image_mat.h"
#include "core/detail/json_write.h"
#include "core/error.h"
#include "core/label_match.h"
#include "core/ocr_options.h"

namespace scanline {
namespace {

// Characters (code points) of UTF-8 text.
size_t CodePoints(const std::string& utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xc0) != 0x80;
  return n;
}

struct Segment {
  std::string text;  // label text, blanks removed
  PixelBox box;
  std::vector<PixelBox> blanks;  // printed blanks ('____') right of the text on its line
  int height = 0;
};

bool IsBlankToken(std::string_view s) {
  int marks = 0;
  for (char c : s) {
    if (c == '_' || c == '.' || c == '-' || c == ':') {
      if (c != ':') ++marks;
    } else {
      return false;
    }
  }
  return marks >= 3;
}

std::vector<Segment> Segments(const OcrPage& page) {
  std::vector<Segment> out;
  for (const TextLine& line : PrepareLines({page})) {
    const int h = std::max(1, line.box.h);
    Segment cur;
    cur.height = h;
    const LineToken* prev = nullptr;
    auto flush = [&] {
      if (!cur.text.empty() || !cur.blanks.empty()) out.push_back(cur);
      cur = Segment{};
      cur.height = h;
    };
    for (const LineToken& t : line.tokens) {
      const std::string raw = line.text.substr(t.begin, t.end - t.begin);
      if (prev && t.box.x - (prev->box.x + prev->box.w) > h * 1.5) flush();
      // "Name:____" : the blank part of a token is a blank, the rest text.
      size_t underscore = raw.find("___");
      if (IsBlankToken(raw)) {
        cur.blanks.push_back(t.box);
      } else if (underscore != std::string::npos && underscore > 0) {
        const int cut = t.box.w * static_cast<int>(underscore) / static_cast<int>(raw.size());
        cur.text += (cur.text.empty() ? "" : " ") + raw.substr(0, underscore);
        cur.box = UnionBox(cur.box, {t.box.x, t.box.y, cut, t.box.h});
        cur.blanks.push_back({t.box.x + cut, t.box.y, t.box.w - cut, t.box.h});
      } else {
        if (!cur.blanks.empty()) flush();  // text after a blank starts a new label
        cur.text += (cur.text.empty() ? "" : " ") + raw;
        cur.box = UnionBox(cur.box, t.box);
      }
      prev = &t;
    }
    flush();
  }
  return out;
}

std::string KeyWords(std::string key) {
  for (char& c : key) {
    if (c == '_' || c == '-' || c == '.') c = ' ';
  }
  return key;
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

OcrOptions FillOcrOptions(const OcrConfig& config) {
  OcrOptions o = DefaultOcrRequestOptions(config).ocr;
  o.psm = 11;
  o.level = OcrLevel::kWords;
  o.deadline_ms = 0;
  return o;
}

const std::map<std::string, std::vector<std::string>>& DefaultSynonyms() {
  static const std::map<std::string, std::vector<std::string>> kSynonyms = {
      {"name", {"full name", "name", "applicant", "applicant name", "your name", "nombre", "nom"}},
      {"full_name", {"full name", "name", "applicant name", "name of applicant"}},
      {"first_name", {"first name", "given name", "given names", "forename", "vorname", "prénom"}},
      {"last_name", {"last name", "surname", "family name", "nachname", "nom de famille"}},
      {"surname", {"surname", "last name", "family name"}},
      {"given_names", {"given names", "first name", "forenames"}},
      {"date_of_birth",
       {"date of birth", "birth date", "dob", "born", "geburtsdatum", "date de naissance"}},
      {"dob", {"date of birth", "birth date", "dob"}},
      {"birth_date", {"date of birth", "birth date", "dob"}},
      {"email", {"email", "e-mail", "email address", "e-mail address", "mail"}},
      {"phone",
       {"phone", "telephone", "tel", "phone number", "telephone number", "phone no", "mobile",
        "telefon"}},
      {"mobile", {"mobile", "cell", "mobile phone", "phone"}},
      {"address", {"address", "street address", "home address", "adresse", "anschrift"}},
      {"street", {"street", "street address", "address line 1", "strasse"}},
      {"city", {"city", "town", "ort", "ville"}},
      {"postcode", {"postcode", "postal code", "zip", "zip code", "plz", "code postal"}},
      {"zip", {"zip", "zip code", "postal code", "postcode"}},
      {"country", {"country", "nationality", "land", "pays"}},
      {"nationality", {"nationality", "citizenship"}},
      {"company", {"company", "employer", "organisation", "organization", "firm"}},
      {"signature_date", {"date", "signed on"}},
      {"date", {"date", "datum"}},
      {"passport_number", {"passport number", "passport no", "document number"}},
      {"id_number", {"id number", "id no", "identity number", "national id"}},
      {"occupation", {"occupation", "profession", "job title"}},
      {"sex", {"sex", "gender"}},
      {"gender", {"gender", "sex"}},
  };
  return kSynonyms;
}

Profile ParseProfile(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    throw Error(ErrorCode::kBadRequest, "profile must be a JSON object of strings");
  }
  Profile out;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string key(it->name.GetString(), it->name.GetStringLength());
    if (it->value.IsString()) {
      out.emplace_back(key, std::string(it->value.GetString(), it->value.GetStringLength()));
    } else if (it->value.IsNumber()) {
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> w(b);
      it->value.Accept(w);
      out.emplace_back(key, std::string(b.GetString(), b.GetSize()));
    } else if (!it->value.IsNull()) {
      throw Error(ErrorCode::kBadRequest, "profile." + key + ": must be a string or a number");
    }
  }
  if (out.empty()) throw Error(ErrorCode::kBadRequest, "profile holds no values");
  return out;
}

FillResult FillForm(const Image& form, const OcrPage& page, const Profile& profile,
                    const FillOptions& options) {
  FillResult result;
  result.width = form.width();
  result.height = form.height();
  const std::vector<Segment> segs = Segments(page);

  struct Pair {
    double score;
    size_t key;
    size_t seg;
    std::string matched;
  };
  std::vector<Pair> pairs;
  for (size_t k = 0; k < profile.size(); ++k) {
    std::vector<std::string> names = {KeyWords(profile[k].first)};
    std::string lower = profile[k].first;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto it = DefaultSynonyms().find(lower); it != DefaultSynonyms().end()) {
      names.insert(names.end(), it->second.begin(), it->second.end());
    }
    for (size_t s = 0; s < segs.size(); ++s) {
      if (segs[s].text.empty()) continue;
      double best = 0;
      std::string matched;
      for (const std::string& n : names) {
        double sim = PhraseSimilarity(n, segs[s].text);
        if (sim > best) {
          best = sim;
          matched = n;
        }
      }
      if (best >= options.min_similarity) pairs.push_back({best, k, s, matched});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
    return a.score != b.score ? a.score > b.score : a.key < b.key;
  });
  std::vector<bool> key_used(profile.size(), false), seg_used(segs.size(), false);
  std::vector<PixelBox> taken;
  for (const Pair& p : pairs) {
    if (key_used[p.key] || seg_used[p.seg]) continue;
    const Segment& s = segs[p.seg];
    FillPlacement fp;
    fp.key = profile[p.key].first;
    fp.value = profile[p.key].second;
    fp.label = s.text;
    fp.matched = p.matched;
    fp.label_box = s.box;
    fp.score = p.score;
    const int h = std::max(s.height, s.box.h);
    if (!s.blanks.empty()) {
      PixelBox blank;
      for (const PixelBox& b : s.blanks) blank = UnionBox(blank, b);
      fp.value_box = {blank.x, s.box.y, blank.w, h};
      fp.position = "right";
    } else {
      // Room right of the label up to the next text on the row.
      int limit = result.width;
      for (const Segment& o : segs) {
        if (&o == &s || o.text.empty()) continue;
        const bool same_row = o.box.y < s.box.y + s.box.h && s.box.y < o.box.y + o.box.h;
        if (same_row && o.box.x > s.box.x + s.box.w) limit = std::min(limit, o.box.x);
      }
      // The value written at the label's height: about 0.6 of the height per character
      // (DejaVu Sans), and never less than four heights of room.
      const int needed = std::max(h * 4, static_cast<int>(0.6 * h * CodePoints(fp.value)));
      const int x = s.box.x + s.box.w + h / 2;
      if (limit - x - h / 2 >= needed) {
        fp.value_box = {x, s.box.y, limit - x - h / 2, h};
        fp.position = "right";
      } else {
        const int width = std::min(std::max({s.box.w, h * 8, needed}), result.width - s.box.x);
        fp.value_box = {s.box.x, s.box.y + s.box.h + h / 3, width, h};
        fp.position = "below";
      }
    }
    bool clash = false;
    for (const PixelBox& t : taken) clash = clash || BoxesOverlap(t, fp.value_box);
    if (clash) continue;
    taken.push_back(fp.value_box);
    key_used[p.key] = true;
    seg_used[p.seg] = true;
    result.placements.push_back(std::move(fp));
  }
  for (size_t k = 0; k < profile.size(); ++k) {
    if (!key_used[k]) result.unmatched_keys.push_back(profile[k].first);
  }
  std::sort(result.placements.begin(), result.placements.end(),
            [](const FillPlacement& a, const FillPlacement& b) {
              return a.label_box.y != b.label_box.y ? a.label_box.y < b.label_box.y
                                                    : a.label_box.x < b.label_box.x;
            });
  if (options.render) {
    cv::Mat canvas;
    const cv::Mat& src = MatOf(form);
    if (src.channels() == 1) {
      cv::cvtColor(src, canvas, cv::COLOR_GRAY2BGR);
    } else {
      canvas = src.clone();
    }
    cv::Ptr<cv::freetype::FreeType2> ft = cv::freetype::createFreeType2();
    try {
      ft->loadFontData(options.font_path, 0);
    } catch (const cv::Exception& e) {
      throw Error(ErrorCode::kInternal, "font unavailable", options.font_path + ": " + e.what());
    }
    for (const FillPlacement& p : result.placements) {
      const int size = std::max(10, p.value_box.h * 8 / 10);
      int baseline = 0;
      cv::Size extent = ft->getTextSize(p.value, size, -1, &baseline);
      int height = size;
      // Shrink to the blank's width.
      if (extent.width > p.value_box.w && extent.width > 0 && p.value_box.w > 0) {
        height = std::max(8, size * p.value_box.w / extent.width);
      }
      ft->putText(canvas, p.value, {p.value_box.x, p.value_box.y + p.value_box.h - 2}, height,
                  cv::Scalar(160, 40, 0), -1, cv::LINE_AA, true);
    }
    std::vector<unsigned char> png;
    cv::imencode(".png", canvas, png);
    result.png.assign(png.begin(), png.end());
  }
  return result;
}

std::string FillResultToJson(const FillResult& r, bool with_image) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto box = [&](const PixelBox& b) { detail::WriteBox(w, b); };
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  w.Key("width");
  w.Int(r.width);
  w.Key("height");
  w.Int(r.height);
  w.Key("placements");
  w.StartArray();
  for (const FillPlacement& p : r.placements) {
    w.StartObject();
    str("key", p.key);
    str("value", p.value);
    str("label", p.label);
    str("matched", p.matched);
    w.Key("label_box");
    box(p.label_box);
    w.Key("value_box");
    box(p.value_box);
    str("position", p.position);
    w.Key("score");
    w.Double(static_cast<int>(p.score * 1000) / 1000.0);
    w.EndObject();
  }
  w.EndArray();
  w.Key("unmatched_keys");
  w.StartArray();
  for (const std::string& k : r.unmatched_keys) w.String(k.c_str());
  w.EndArray();
  if (with_image && !r.png.empty()) str("image_png_base64", Base64(r.png));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace scanline
