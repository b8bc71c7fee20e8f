// Form extraction across engines and its JSON form (see core/forms.h).
#include "core/forms.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/config.h"
#include "core/detail/json_write.h"
#include "core/error.h"
#include "core/label_match.h"
#include "core/line_reread.h"
#include "core/llm_client.h"
#include "core/log.h"
#include "core/ocr_options.h"

namespace scanline {
namespace {

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

using detail::WriteBox;

void Str(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}

}  // namespace

std::string_view EngineName(ExtractEngine engine) {
  switch (engine) {
    case ExtractEngine::kRules:
      return "rules";
    case ExtractEngine::kLlm:
      return "llm";
    case ExtractEngine::kAuto:
      return "auto";
  }
  return "rules";
}

ExtractEngine ParseEngine(std::string_view name) {
  if (name == "rules") return ExtractEngine::kRules;
  if (name == "llm") return ExtractEngine::kLlm;
  if (name == "auto") return ExtractEngine::kAuto;
  throw InvalidOption("engine", "must be rules, llm or auto");
}

OcrOptions FormOcrOptions(const Template& t, const OcrConfig& config) {
  OcrOptions o = DefaultOcrRequestOptions(config).ocr;
  o.lang = t.ocr_lang;
  o.level = OcrLevel::kWords;
  if (t.ocr_psm != 0) o.psm = t.ocr_psm;
  return o;
}

std::string PagesText(const std::vector<OcrPage>& pages) {
  std::string out;
  for (const TextLine& l : PrepareLines(pages)) out += l.text + "\n";
  return out;
}

FormExtraction ExtractForm(const Template& t, const std::vector<OcrPage>& pages,
                           ExtractEngine engine, LlmClient* llm, const SecondReading* second,
                           std::chrono::steady_clock::time_point llm_deadline) {
  const std::vector<OcrPage>* pages_read = &pages;
  std::vector<OcrPage> reread_pages;
  FormExtraction result;
  result.document_type = t.document_type;
  result.template_version = t.version;
  result.engine = std::string(EngineName(engine));
  if (engine == ExtractEngine::kLlm && llm == nullptr) {
    throw InvalidOption("engine", "llm needs an LLM endpoint (llm.endpoint), none is configured");
  }
  if (engine != ExtractEngine::kLlm) {
    const auto start = std::chrono::steady_clock::now();
    RuleExtraction rules = ExtractWithRules(t, pages);
    result.timings.push_back({"rules", MsSince(start)});
    std::vector<LineRef> lines;
    if (second != nullptr && second->engines != nullptr) {
      for (size_t i = 0; i < t.fields.size() && i < rules.fields.size(); ++i) {
        if (!t.fields[i].hints.reread) continue;
        for (const PixelBox& box : rules.fields[i].source_lines) {
          lines.push_back({rules.fields[i].page, box});
        }
      }
    }
    if (!lines.empty()) {
      const auto reread_start = std::chrono::steady_clock::now();
      reread_pages = pages;
      LineRereadOptions options;
      options.lang = t.ocr_lang;
      options.deadline = second->deadline;
      if (RereadLines(*second->engines, second->images, lines, options, reread_pages).replaced >
          0) {
        rules = ExtractWithRules(t, reread_pages);
        pages_read = &reread_pages;
      }
      result.timings.push_back({"reread", MsSince(reread_start)});
    }
    result.fields = std::move(rules.fields);
    result.key_values = std::move(rules.key_values);
  } else {
    for (const FieldSpec& f : t.fields) {
      ExtractedField e;
      e.name = f.name;
      e.engine = "llm";
      result.fields.push_back(std::move(e));
    }
  }
  std::vector<std::string> ask;
  for (const ExtractedField& f : result.fields) {
    if (engine == ExtractEngine::kLlm || !f.found || !f.value.valid) ask.push_back(f.name);
  }
  LlmAsk also;
  also.key_values = engine == ExtractEngine::kLlm && t.key_values;
  also.deadline = llm_deadline;
  if (engine != ExtractEngine::kRules && llm != nullptr && (!ask.empty() || also.key_values)) {
    const auto start = std::chrono::steady_clock::now();
    try {
      LlmAnswer answer = llm->ExtractFields(t, PagesText(*pages_read), ask, also);
      result.llm_model = answer.model;
      for (auto& [key, value] : answer.key_values) {
        KeyValuePair pair;
        pair.key = std::move(key);
        pair.value = std::move(value);
        pair.confidence = 0.8;
        result.key_values.push_back(std::move(pair));
      }
      for (ExtractedField& f : result.fields) {
        auto it = answer.values.find(f.name);
        if (it == answer.values.end() || !it->second || it->second->empty()) continue;
        if (std::find(ask.begin(), ask.end(), f.name) == ask.end()) continue;
        const FieldSpec* spec = t.Field(f.name);
        TypedValue v = NormaliseValue(*it->second, spec->rules);
        // In auto mode an invalid model answer does not replace a rules value.
        if (engine == ExtractEngine::kAuto && f.found && !v.valid) continue;
        f.found = true;
        f.value = std::move(v);
        f.engine = "llm";
        f.box = {};
        f.label.clear();
        f.confidence = f.value.valid ? 0.8 : 0.4;
      }
    } catch (const Error& e) {
      if (engine == ExtractEngine::kLlm) throw;
      LogWarning("forms: LLM fallback for " + t.document_type +
                 " failed: " + std::string(e.detail()));
    }
    result.timings.push_back({"llm", MsSince(start)});
  }
  double sum = 0;
  int n = 0;
  for (const ExtractedField& f : result.fields) {
    const FieldSpec* spec = t.Field(f.name);
    if (spec && spec->required && (!f.found || !f.value.valid)) {
      result.missing_required.push_back(f.name);
    }
    if (f.found) {
      sum += f.confidence;
      ++n;
    }
  }
  result.mean_confidence = n ? sum / n : 0;
  return result;
}

namespace {

// Whether a key -> value pair shows a sensitive field's value: the value holds the field's
// text, or lies over its box.
bool HoldsSensitiveValue(const KeyValuePair& kv, const FormExtraction& r, const Template& t) {
  for (const ExtractedField& f : r.fields) {
    const FieldSpec* spec = t.Field(f.name);
    if (!f.found || !spec || !spec->sensitive) continue;
    if (!f.value.raw.empty() && kv.value.find(f.value.raw) != std::string::npos) return true;
    if (f.page == kv.page && f.box.w > 0 && kv.value_box.w > 0 &&
        BoxesOverlap(f.box, kv.value_box)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string FormExtractionToJson(const FormExtraction& r, const Template& t, bool mask) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  Str(w, "document_type", r.document_type);
  w.Key("template_version");
  w.Int(r.template_version);
  w.Key("ab_candidate");
  w.Bool(r.ab_candidate);
  Str(w, "engine", r.engine);
  if (!r.llm_model.empty()) Str(w, "llm_model", r.llm_model);
  w.Key("masked");
  w.Bool(mask);
  w.Key("fields");
  w.StartObject();
  for (const ExtractedField& f : r.fields) {
    const FieldSpec* spec = t.Field(f.name);
    const bool hide = mask && spec && spec->sensitive;
    w.Key(f.name.c_str(), static_cast<rapidjson::SizeType>(f.name.size()));
    w.StartObject();
    w.Key("found");
    w.Bool(f.found);
    if (f.found) {
      Str(w, "value", hide ? MaskValue(f.value.raw) : f.value.raw);
      if (f.value.normalised.empty()) {
        w.Key("normalised");
        w.Null();
      } else {
        Str(w, "normalised", hide ? MaskValue(f.value.normalised) : f.value.normalised);
      }
      if (!f.value.currency.empty()) Str(w, "currency", f.value.currency);
      w.Key("confidence");
      w.Double(std::round(f.confidence * 1000) / 1000);
      if (f.box.w > 0) {
        w.Key("box");
        WriteBox(w, f.box);
        w.Key("page");
        w.Int(f.page + 1);
      }
      Str(w, "engine", f.engine);
      if (!f.label.empty()) Str(w, "label", f.label);
      w.Key("valid");
      w.Bool(f.value.valid);
      w.Key("problems");
      w.StartArray();
      for (const std::string& p : f.value.problems) w.String(p.c_str());
      w.EndArray();
    }
    if (spec) {
      Str(w, "type", std::string(FieldTypeName(spec->rules.type)));
      w.Key("required");
      w.Bool(spec->required);
      w.Key("sensitive");
      w.Bool(spec->sensitive);
    }
    w.EndObject();
  }
  w.EndObject();
  w.Key("missing_required");
  w.StartArray();
  for (const std::string& m : r.missing_required) w.String(m.c_str());
  w.EndArray();
  if (t.key_values) {
    w.Key("key_values");
    w.StartArray();
    for (const KeyValuePair& kv : r.key_values) {
      w.StartObject();
      Str(w, "key", kv.key);
      Str(w, "value", mask && HoldsSensitiveValue(kv, r, t) ? MaskValue(kv.value) : kv.value);
      w.Key("key_box");
      WriteBox(w, kv.key_box);
      w.Key("value_box");
      WriteBox(w, kv.value_box);
      w.Key("page");
      w.Int(kv.page + 1);
      w.Key("confidence");
      w.Double(kv.confidence);
      w.EndObject();
    }
    w.EndArray();
  }
  w.Key("mean_confidence");
  w.Double(std::round(r.mean_confidence * 1000) / 1000);
  w.Key("timings_ms");
  w.StartObject();
  for (const StageTiming& s : r.timings) {
    w.Key(s.stage.c_str());
    w.Double(std::round(s.ms * 100) / 100);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace scanline
