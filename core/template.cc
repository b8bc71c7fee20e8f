// Template JSON (de)serialisation and validation (see core/template.h).
#include "core/template.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/data_files.h"
#include "core/error.h"

namespace scanline {
namespace {

constexpr size_t kMaxPromptBytes = size_t{32} * 1024;
constexpr size_t kMaxFields = 200;
constexpr size_t kMaxTextBytes = 4096;

[[noreturn]] void Bad(const std::string& path, const std::string& why) {
  throw Error(ErrorCode::kUnprocessable, path + ": " + why);
}

template <typename E>
E ParseEnum(const std::string& path, std::string_view text, std::initializer_list<E> all,
            std::string_view (*name)(E)) {
  std::string known;
  for (E e : all) {
    if (name(e) == text) return e;
    known += (known.empty() ? "" : ", ") + std::string(name(e));
  }
  Bad(path, "unknown value \"" + std::string(text) + "\" (one of " + known + ")");
}

// Typed readers that name the path in their errors.
class Reader {
 public:
  Reader(const rapidjson::Value& object, std::string path) : v_(object), path_(std::move(path)) {
    if (!v_.IsObject()) Bad(path_.empty() ? "$" : path_, "must be an object");
  }

  // Rejects members not in `known` so a misspelt key does not silently do nothing.
  void Only(std::initializer_list<std::string_view> known) const {
    for (auto it = v_.MemberBegin(); it != v_.MemberEnd(); ++it) {
      std::string_view name(it->name.GetString(), it->name.GetStringLength());
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        Bad(Path(name), "unknown member");
      }
    }
  }

  bool Has(const char* name) const { return v_.HasMember(name); }

  std::string String(const char* name, const std::string& fallback, size_t max_bytes) const {
    if (!v_.HasMember(name)) return fallback;
    const auto& m = v_[name];
    if (!m.IsString()) Bad(Path(name), "must be a string");
    if (m.GetStringLength() > max_bytes) {
      Bad(Path(name), "longer than " + std::to_string(max_bytes) + " bytes");
    }
    return std::string(m.GetString(), m.GetStringLength());
  }

  bool Bool(const char* name, bool fallback) const {
    if (!v_.HasMember(name)) return fallback;
    if (!v_[name].IsBool()) Bad(Path(name), "must be true or false");
    return v_[name].GetBool();
  }

  int Int(const char* name, int fallback, int min, int max) const {
    if (!v_.HasMember(name)) return fallback;
    const auto& m = v_[name];
    if (!m.IsInt() || m.GetInt() < min || m.GetInt() > max) {
      Bad(Path(name),
          "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return m.GetInt();
  }

  std::vector<std::string> Strings(const char* name) const {
    std::vector<std::string> out;
    if (!v_.HasMember(name)) return out;
    const auto& m = v_[name];
    if (!m.IsArray()) Bad(Path(name), "must be an array of strings");
    for (rapidjson::SizeType i = 0; i < m.Size(); ++i) {
      if (!m[i].IsString() || m[i].GetStringLength() == 0) {
        Bad(Path(name) + "[" + std::to_string(i) + "]", "must be a non-empty string");
      }
      out.emplace_back(m[i].GetString(), m[i].GetStringLength());
    }
    return out;
  }

  // {"en": ["TOTAL"], "ms": ["JUMLAH"]}; a plain array is taken as language "any".
  std::map<std::string, std::vector<std::string>> Labels(const char* name) const {
    std::map<std::string, std::vector<std::string>> out;
    if (!v_.HasMember(name)) return out;
    const auto& m = v_[name];
    if (m.IsArray()) {
      out["any"] = Strings(name);
      return out;
    }
    if (!m.IsObject()) Bad(Path(name), "must be an object of language -> array of strings");
    Reader langs(m, Path(name));
    for (auto it = m.MemberBegin(); it != m.MemberEnd(); ++it) {
      std::string lang(it->name.GetString(), it->name.GetStringLength());
      static const std::regex kLang("[a-z]{2,3}(-[A-Za-z0-9]{2,8})?|any");
      if (!std::regex_match(lang, kLang)) Bad(Path(name) + "." + lang, "not a language code");
      out[lang] = langs.Strings(lang.c_str());
    }
    return out;
  }

  const rapidjson::Value* Member(const char* name) const {
    return v_.HasMember(name) ? &v_[name] : nullptr;
  }

  std::string Path(std::string_view member) const {
    return (path_.empty() ? "" : path_ + ".") + std::string(member);
  }

 private:
  const rapidjson::Value& v_;
  std::string path_;
};

void CheckPattern(const std::string& path, const std::string& pattern) {
  std::string why;
  if (!pattern.empty() && !ValidPattern(pattern, &why)) {
    Bad(path, "invalid regular expression (" + why + ")");
  }
}

FieldSpec ParseField(const rapidjson::Value& v, const std::string& path) {
  Reader r(v, path);
  r.Only({"name", "description", "type", "required", "sensitive", "validation", "normalisation",
          "rules"});
  FieldSpec f;
  f.name = r.String("name", "", 64);
  static const std::regex kName("[a-z][a-z0-9_]{0,63}");
  if (!std::regex_match(f.name, kName)) {
    Bad(r.Path("name"), "must match [a-z][a-z0-9_]{0,63}");
  }
  f.description = r.String("description", "", kMaxTextBytes);
  std::string type = r.String("type", "text", 32);
  auto t = ParseFieldType(type);
  if (!t) Bad(r.Path("type"), "unknown type \"" + type + "\"");
  f.rules.type = *t;
  f.required = r.Bool("required", false);
  f.sensitive = r.Bool("sensitive", false);

  if (const auto* val = r.Member("validation")) {
    Reader vr(*val, r.Path("validation"));
    vr.Only({"pattern", "check_digit", "min_length", "max_length"});
    f.rules.pattern = vr.String("pattern", "", kMaxTextBytes);
    CheckPattern(vr.Path("pattern"), f.rules.pattern);
    std::string check = vr.String("check_digit", "none", 32);
    f.rules.check_digit =
        ParseEnum(vr.Path("check_digit"), check,
                  {CheckDigitScheme::kNone, CheckDigitScheme::kLuhn, CheckDigitScheme::kIban,
                   CheckDigitScheme::kMod97_10, CheckDigitScheme::kMod11_2, CheckDigitScheme::kMrz},
                  &CheckDigitName);
    f.rules.min_length = vr.Int("min_length", 0, 0, 10000);
    f.rules.max_length = vr.Int("max_length", 0, 0, 10000);
    if (f.rules.max_length > 0 && f.rules.max_length < f.rules.min_length) {
      Bad(vr.Path("max_length"), "smaller than min_length");
    }
  }
  if (const auto* norm = r.Member("normalisation")) {
    Reader nr(*norm, r.Path("normalisation"));
    nr.Only({"date_order", "currency", "country_code"});
    std::string order = nr.String("date_order", "DMY", 8);
    f.rules.date_order =
        ParseEnum(nr.Path("date_order"), order,
                  {DateOrder::kDayMonthYear, DateOrder::kMonthDayYear, DateOrder::kYearMonthDay},
                  &DateOrderName);
    f.rules.currency = nr.String("currency", "", 3);
    static const std::regex kCurrency("[A-Z]{3}");
    if (!f.rules.currency.empty() && !std::regex_match(f.rules.currency, kCurrency)) {
      Bad(nr.Path("currency"), "must be an ISO 4217 code (three capital letters)");
    }
    f.rules.country_code = nr.String("country_code", "", 4);
    static const std::regex kCalling("[1-9][0-9]{0,3}");
    if (!f.rules.country_code.empty() && !std::regex_match(f.rules.country_code, kCalling)) {
      Bad(nr.Path("country_code"), "must be a calling code of 1 to 4 digits");
    }
  }
  if (const auto* rules = r.Member("rules")) {
    Reader hr(*rules, r.Path("rules"));
    hr.Only({"locate", "labels", "exclude_labels", "value_pattern", "position", "region",
             "keywords", "max_lines", "prefer", "after", "mrz_element", "checks", "step_cents",
             "min_word_confidence", "reread"});
    RuleHints& h = f.hints;
    h.locate = ParseEnum(hr.Path("locate"), hr.String("locate", "label", 32),
                         {LocateStrategy::kLabel, LocateStrategy::kPattern, LocateStrategy::kHeader,
                          LocateStrategy::kBlock, LocateStrategy::kMrz},
                         &LocateName);
    h.labels = hr.Labels("labels");
    h.exclude_labels = hr.Labels("exclude_labels");
    h.value_pattern = hr.String("value_pattern", "", kMaxTextBytes);
    CheckPattern(hr.Path("value_pattern"), h.value_pattern);
    if (hr.Has("position")) {
      h.positions.clear();
      std::vector<std::string> names = hr.Strings("position");
      for (size_t i = 0; i < names.size(); ++i) {
        h.positions.push_back(
            ParseEnum(hr.Path("position") + "[" + std::to_string(i) + "]", names[i],
                      {ValuePosition::kRight, ValuePosition::kBelow, ValuePosition::kSameLine},
                      &PositionName));
      }
      if (h.positions.empty()) Bad(hr.Path("position"), "must name at least one position");
    }
    h.region = ParseEnum(hr.Path("region"), hr.String("region", "any", 16),
                         {PageRegion::kAny, PageRegion::kTop, PageRegion::kBottom}, &RegionName);
    h.keywords = hr.Strings("keywords");
    h.max_lines = hr.Int("max_lines", 1, 1, 12);
    h.prefer =
        ParseEnum(hr.Path("prefer"), hr.String("prefer", "best", 16),
                  {Preference::kBest, Preference::kFirst, Preference::kLast, Preference::kLargest},
                  &PreferenceName);
    h.after = hr.String("after", "", 64);
    h.mrz_element = hr.String("mrz_element", "", 64);
    if (const auto* checks = hr.Member("checks")) {
      Reader cr(*checks, hr.Path("checks"));
      cr.Only({"paid", "change", "subtotal", "adjustment"});
      for (const char* role : {"paid", "change", "subtotal", "adjustment"}) {
        if (cr.Has(role)) h.checks[role] = cr.Strings(role);
      }
      if (f.rules.type != FieldType::kMoney) Bad(hr.Path("checks"), "only for money fields");
    }
    h.step_cents = hr.Int("step_cents", 0, 0, 100000);
    h.min_word_confidence = hr.Int("min_word_confidence", 0, 0, 100);
    h.reread = hr.Bool("reread", false);
    static const std::set<std::string> kMrzElements = {
        "zone",        "document_code",   "issuing_state", "surname",
        "given_names", "document_number", "nationality",   "birth_date",
        "sex",         "expiry_date",     "optional_data", "optional_data2"};
    if (h.locate == LocateStrategy::kMrz && !kMrzElements.count(h.mrz_element)) {
      Bad(hr.Path("mrz_element"), "must name an MRZ element (document_number, surname, ...)");
    }
    if (h.locate == LocateStrategy::kLabel && h.labels.empty()) {
      Bad(hr.Path("labels"), "locate \"label\" needs at least one label");
    }
  } else if (f.rules.type != FieldType::kMrz) {
    f.hints.locate = LocateStrategy::kPattern;
  }
  return f;
}

template <typename W>
void WriteLabels(W& w, const std::map<std::string, std::vector<std::string>>& labels) {
  w.StartObject();
  for (const auto& [lang, words] : labels) {
    w.Key(lang.c_str());
    w.StartArray();
    for (const std::string& s : words) w.String(s.c_str(), s.size());
    w.EndArray();
  }
  w.EndObject();
}

template <typename W>
void WriteTemplate(W& w, const Template& t) {
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("document_type", t.document_type);
  if (t.version > 0) {
    w.Key("version");
    w.Int(t.version);
  }
  if (!t.description.empty()) str("description", t.description);
  if (!t.model.empty()) str("model", t.model);
  str("ocr_lang", t.ocr_lang);
  if (t.ocr_psm != 0) {
    w.Key("ocr_psm");
    w.Int(t.ocr_psm);
  }
  if (t.key_values) {
    w.Key("key_values");
    w.Bool(true);
  }
  str("prompt", t.prompt);
  w.Key("fields");
  w.StartArray();
  for (const FieldSpec& f : t.fields) {
    w.StartObject();
    str("name", f.name);
    if (!f.description.empty()) str("description", f.description);
    str("type", std::string(FieldTypeName(f.rules.type)));
    w.Key("required");
    w.Bool(f.required);
    w.Key("sensitive");
    w.Bool(f.sensitive);
    const ValueRules& r = f.rules;
    w.Key("validation");
    w.StartObject();
    if (!r.pattern.empty()) str("pattern", r.pattern);
    str("check_digit", std::string(CheckDigitName(r.check_digit)));
    if (r.min_length) {
      w.Key("min_length");
      w.Int(r.min_length);
    }
    if (r.max_length) {
      w.Key("max_length");
      w.Int(r.max_length);
    }
    w.EndObject();
    w.Key("normalisation");
    w.StartObject();
    str("date_order", std::string(DateOrderName(r.date_order)));
    if (!r.currency.empty()) str("currency", r.currency);
    if (!r.country_code.empty()) str("country_code", r.country_code);
    w.EndObject();
    const RuleHints& h = f.hints;
    w.Key("rules");
    w.StartObject();
    str("locate", std::string(LocateName(h.locate)));
    if (!h.labels.empty()) {
      w.Key("labels");
      WriteLabels(w, h.labels);
    }
    if (!h.exclude_labels.empty()) {
      w.Key("exclude_labels");
      WriteLabels(w, h.exclude_labels);
    }
    if (!h.value_pattern.empty()) str("value_pattern", h.value_pattern);
    w.Key("position");
    w.StartArray();
    for (ValuePosition p : h.positions) w.String(PositionName(p).data());
    w.EndArray();
    str("region", std::string(RegionName(h.region)));
    if (!h.keywords.empty()) {
      w.Key("keywords");
      w.StartArray();
      for (const std::string& k : h.keywords) w.String(k.c_str(), k.size());
      w.EndArray();
    }
    w.Key("max_lines");
    w.Int(h.max_lines);
    str("prefer", std::string(PreferenceName(h.prefer)));
    if (!h.after.empty()) str("after", h.after);
    if (!h.mrz_element.empty()) str("mrz_element", h.mrz_element);
    if (!h.checks.empty()) {
      w.Key("checks");
      w.StartObject();
      for (const auto& [role, words] : h.checks) {
        w.Key(role.c_str());
        w.StartArray();
        for (const std::string& s : words) w.String(s.c_str(), s.size());
        w.EndArray();
      }
      w.EndObject();
    }
    if (h.step_cents) {
      w.Key("step_cents");
      w.Int(h.step_cents);
    }
    if (h.min_word_confidence) {
      w.Key("min_word_confidence");
      w.Int(h.min_word_confidence);
    }
    if (h.reread) {
      w.Key("reread");
      w.Bool(true);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

bool SameRules(const ValueRules& a, const ValueRules& b) {
  return a.type == b.type && a.pattern == b.pattern && a.check_digit == b.check_digit &&
         a.min_length == b.min_length && a.max_length == b.max_length &&
         a.date_order == b.date_order && a.currency == b.currency &&
         a.country_code == b.country_code;
}

}  // namespace

std::string_view LocateName(LocateStrategy s) {
  switch (s) {
    case LocateStrategy::kLabel:
      return "label";
    case LocateStrategy::kPattern:
      return "pattern";
    case LocateStrategy::kHeader:
      return "header";
    case LocateStrategy::kBlock:
      return "block";
    case LocateStrategy::kMrz:
      return "mrz";
  }
  return "label";
}

std::string_view PositionName(ValuePosition p) {
  switch (p) {
    case ValuePosition::kRight:
      return "right";
    case ValuePosition::kBelow:
      return "below";
    case ValuePosition::kSameLine:
      return "same_line";
  }
  return "right";
}

std::string_view RegionName(PageRegion r) {
  switch (r) {
    case PageRegion::kAny:
      return "any";
    case PageRegion::kTop:
      return "top";
    case PageRegion::kBottom:
      return "bottom";
  }
  return "any";
}

std::string_view PreferenceName(Preference p) {
  switch (p) {
    case Preference::kBest:
      return "best";
    case Preference::kFirst:
      return "first";
    case Preference::kLast:
      return "last";
    case Preference::kLargest:
      return "largest";
  }
  return "best";
}

const FieldSpec* Template::Field(std::string_view name) const {
  for (const FieldSpec& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Template ParseTemplate(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    throw Error(ErrorCode::kBadRequest, std::string("template is not valid JSON: ") +
                                            rapidjson::GetParseError_En(doc.GetParseError()) +
                                            " at offset " + std::to_string(doc.GetErrorOffset()));
  }
  Reader r(doc, "");
  // status and created_at appear in exports; they are the store's, not the template's.
  r.Only({"document_type", "version", "description", "model", "ocr_lang", "ocr_psm", "key_values",
          "prompt", "fields", "status", "created_at", "is_default"});
  Template t;
  t.document_type = r.String("document_type", "", 64);
  static const std::regex kType("[a-z][a-z0-9_]{0,63}");
  if (!std::regex_match(t.document_type, kType)) {
    Bad("document_type", "must match [a-z][a-z0-9_]{0,63}");
  }
  t.version = r.Int("version", 0, 0, 1'000'000);
  t.description = r.String("description", "", kMaxTextBytes);
  t.model = r.String("model", "", 128);
  t.ocr_lang = r.String("ocr_lang", "eng", 64);
  static const std::regex kLangs("[a-z_]{3,16}(\\+[a-z_]{3,16}){0,5}");
  if (!std::regex_match(t.ocr_lang, kLangs)) {
    Bad("ocr_lang", "must be Tesseract language names joined by '+' (\"eng+deu\")");
  }
  t.ocr_psm = r.Int("ocr_psm", 0, 0, 13);
  t.key_values = r.Bool("key_values", false);
  t.prompt = r.String("prompt", "", kMaxPromptBytes);
  const rapidjson::Value* fields = r.Member("fields");
  if (!fields || !fields->IsArray()) Bad("fields", "must be an array");
  if (fields->Size() > kMaxFields) Bad("fields", "more than 200 fields");
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < fields->Size(); ++i) {
    std::string path = "fields[" + std::to_string(i) + "]";
    FieldSpec f = ParseField((*fields)[i], path);
    if (!names.insert(f.name).second) Bad(path + ".name", "duplicate field \"" + f.name + "\"");
    t.fields.push_back(std::move(f));
  }
  if (t.fields.empty() && !t.key_values) {
    Bad("fields", "a template needs at least one field, or key_values: true");
  }
  for (size_t i = 0; i < t.fields.size(); ++i) {
    const std::string& after = t.fields[i].hints.after;
    if (!after.empty() && (!names.count(after) || after == t.fields[i].name)) {
      Bad("fields[" + std::to_string(i) + "].rules.after", "names no other field");
    }
  }
  return t;
}

std::string TemplateToJson(const Template& t, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    WriteTemplate(w, t);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    WriteTemplate(w, t);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

bool operator==(const RuleHints& a, const RuleHints& b) {
  return a.locate == b.locate && a.labels == b.labels && a.exclude_labels == b.exclude_labels &&
         a.value_pattern == b.value_pattern && a.positions == b.positions && a.region == b.region &&
         a.keywords == b.keywords && a.max_lines == b.max_lines && a.prefer == b.prefer &&
         a.after == b.after && a.mrz_element == b.mrz_element && a.checks == b.checks &&
         a.step_cents == b.step_cents && a.min_word_confidence == b.min_word_confidence &&
         a.reread == b.reread;
}

bool operator==(const FieldSpec& a, const FieldSpec& b) {
  return a.name == b.name && a.description == b.description && a.required == b.required &&
         a.sensitive == b.sensitive && SameRules(a.rules, b.rules) && a.hints == b.hints;
}

bool operator==(const Template& a, const Template& b) {
  return a.document_type == b.document_type && a.version == b.version &&
         a.description == b.description && a.prompt == b.prompt && a.model == b.model &&
         a.ocr_lang == b.ocr_lang && a.ocr_psm == b.ocr_psm && a.key_values == b.key_values &&
         a.fields == b.fields;
}

Template LoadTemplateFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kInternal, "template file unreadable", path);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return ParseTemplate(text.str());
  } catch (const Error& e) {
    throw Error(e.code(), std::string(e.detail()), path + ": " + std::string(e.detail()));
  }
}

std::vector<Template> LoadTemplateDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<Template> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    out.push_back(LoadTemplateFile(entry.path().string()));
  }
  if (ec)
    throw Error(ErrorCode::kInternal, "template directory unreadable", dir + ": " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const Template& a, const Template& b) { return a.document_type < b.document_type; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].document_type == out[i - 1].document_type) {
      throw Error(ErrorCode::kInternal, "two built-in templates for one document type",
                  dir + ": " + out[i].document_type);
    }
  }
  return out;
}

std::string BuiltinTemplateDir(const FormsConfig& forms) {
  return forms.templates_dir.empty() ? DataDir("templates") : forms.templates_dir;
}

Template LoadBuiltinTemplate(const FormsConfig& forms, std::string_view document_type) {
  for (Template& t : LoadTemplateDir(BuiltinTemplateDir(forms))) {
    if (t.document_type == document_type) return std::move(t);
  }
  throw Error(ErrorCode::kNotFound, "no built-in template \"" + std::string(document_type) + "\"");
}

std::vector<std::string> AllLabels(const std::map<std::string, std::vector<std::string>>& labels) {
  std::vector<std::string> out;
  for (const auto& [lang, words] : labels) {
    for (const std::string& w : words) {
      if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
    }
  }
  return out;
}

}  // namespace scanline
