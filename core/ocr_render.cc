// OCR result rendering (see core/ocr_render.h).
#include "core/ocr_render.h"

#include <tesseract/baseapi.h>

#include <cmath>

#include "core/detail/json_write.h"

namespace scanline {
namespace {

using Writer = detail::JsonWriter;
using detail::WriteBox;
using detail::WriteRounded;
using detail::WriteString;
using detail::WriteTimings;

void PageJson(Writer& w, const OcrPage& page, int number, OcrLevel level) {
  w.StartObject();
  w.Key("page");
  w.Int(number);
  w.Key("width");
  w.Int(page.width);
  w.Key("height");
  w.Int(page.height);
  w.Key("text");
  WriteString(w, page.text);
  w.Key("mean_confidence");
  WriteRounded(w, page.mean_confidence);
  w.Key("word_count");
  w.Int(page.word_count);
  w.Key("preprocess");
  w.StartArray();
  for (const auto& step : page.preprocess_applied) WriteString(w, step);
  w.EndArray();
  w.Key("timings_ms");
  WriteTimings(w, page.timings);
  if (level != OcrLevel::kText) {
    w.Key("blocks");
    w.StartArray();
    for (const auto& block : page.blocks) {
      w.StartObject();
      w.Key("box");
      WriteBox(w, block.box);
      w.Key("lines");
      w.StartArray();
      for (const auto& line : block.lines) {
        w.StartObject();
        w.Key("text");
        WriteString(w, line.text);
        w.Key("confidence");
        WriteRounded(w, line.confidence);
        w.Key("box");
        WriteBox(w, line.box);
        if (level == OcrLevel::kWords) {
          w.Key("words");
          w.StartArray();
          for (const auto& word : line.words) {
            w.StartObject();
            w.Key("text");
            WriteString(w, word.text);
            w.Key("confidence");
            WriteRounded(w, word.confidence);
            w.Key("box");
            WriteBox(w, word.box);
            w.EndObject();
          }
          w.EndArray();
        }
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

std::string Json(const OcrDocument& doc, const OcrRequestOptions& options) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("image");
  w.StartObject();
  w.Key("format");
  WriteString(w, FormatName(doc.info.format));
  w.Key("width");
  w.Int(doc.info.width);
  w.Key("height");
  w.Int(doc.info.height);
  w.Key("pages");
  w.Int(static_cast<int>(doc.pages.size()));
  w.Key("bytes");
  w.Int64(doc.bytes);
  w.Key("sha256");
  WriteString(w, doc.sha256);
  w.EndObject();

  const OcrOptions& o = options.ocr;
  w.Key("options");
  w.StartObject();
  w.Key("lang");
  WriteString(w, o.lang);
  w.Key("psm");
  w.Int(o.psm);
  w.Key("roi");
  if (o.roi) {
    WriteString(w, RoiText(*o.roi));
  } else {
    w.Null();
  }
  w.Key("preprocess");
  WriteString(w, PreprocessText(o.preprocess));
  w.Key("level");
  WriteString(w, LevelName(o.level));
  w.Key("format");
  WriteString(w, FormatName(options.format));
  w.Key("deadline_ms");
  w.Int(o.deadline_ms);
  w.EndObject();

  std::string text;
  int words = 0;
  for (size_t i = 0; i < doc.pages.size(); ++i) {
    if (i > 0) text += '\f';
    text += doc.pages[i].text;
    words += doc.pages[i].word_count;
  }
  w.Key("text");
  WriteString(w, text);
  w.Key("mean_confidence");
  WriteRounded(w, DocumentConfidence(doc));
  w.Key("word_count");
  w.Int(words);
  w.Key("pages");
  w.StartArray();
  for (size_t i = 0; i < doc.pages.size(); ++i) {
    PageJson(w, doc.pages[i], static_cast<int>(i) + 1, o.level);
  }
  w.EndArray();
  w.Key("timings_ms");
  WriteTimings(w, doc.timings);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The document frame Tesseract's own hOCR renderer writes around its pages.
std::string Hocr(const OcrDocument& doc) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
      "    \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
      "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
      " <head>\n  <title></title>\n"
      "  <meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
      "  <meta name='ocr-system' content='tesseract " +
      std::string(tesseract::TessBaseAPI::Version()) +
      "' />\n"
      "  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word "
      "ocrp_wconf'/>\n"
      " </head>\n <body>\n";
  for (const auto& page : doc.pages) out += page.hocr;
  out += " </body>\n</html>\n";
  return out;
}

std::string Tsv(const OcrDocument& doc) {
  std::string out;
  for (size_t i = 0; i < doc.pages.size(); ++i) {
    std::string_view tsv = doc.pages[i].tsv;
    if (i > 0) tsv.remove_prefix(std::min(tsv.size(), tsv.find('\n') + 1));  // one header
    out += tsv;
  }
  return out;
}

}  // namespace

float DocumentConfidence(const OcrDocument& document) {
  double sum = 0;
  int words = 0;
  for (const auto& page : document.pages) {
    sum += static_cast<double>(page.mean_confidence) * page.word_count;
    words += page.word_count;
  }
  return words ? static_cast<float>(sum / words) : 0.0f;
}

RenderedOcr RenderOcrDocument(const OcrDocument& document, const OcrRequestOptions& options) {
  switch (options.format) {
    case OcrFormat::kJson:
      return {"application/json", Json(document, options)};
    case OcrFormat::kHocr:
      return {"text/html; charset=utf-8", Hocr(document)};
    case OcrFormat::kTsv:
      return {"text/tab-separated-values; charset=utf-8", Tsv(document)};
    case OcrFormat::kText: {
      std::string text;
      for (const auto& page : document.pages) text += page.text + "\f";
      return {"text/plain; charset=utf-8", text};
    }
  }
  return {};
}

}  // namespace scanline
