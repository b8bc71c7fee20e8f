// Per-field scoring of extractions against labels (see core/template_eval.h).
#include "core/template_eval.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/field_types.h"

namespace scanline {
namespace {

double Ratio(int a, int b) { return b == 0 ? 0.0 : static_cast<double>(a) / b; }

FieldScore& ScoreOf(EvalReport& report, const std::string& field) {
  for (FieldScore& s : report.fields) {
    if (s.field == field) return s;
  }
  report.fields.push_back(FieldScore{field});
  return report.fields.back();
}

}  // namespace

double FieldScore::Precision() const {
  return Ratio(true_positives, true_positives + false_positives);
}
double FieldScore::Recall() const {
  return Ratio(true_positives, true_positives + false_negatives);
}
double FieldScore::F1() const {
  const double p = Precision(), r = Recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

bool SameFieldValue(const std::string& value, const std::string& label) {
  return AsciiUpper(CollapseWhitespace(value)) == AsciiUpper(CollapseWhitespace(label));
}

void ScoreDocument(const std::vector<ExtractedField>& fields,
                   const std::map<std::string, std::string>& labels, EvalReport& report,
                   std::vector<std::string>* mismatches) {
  ++report.documents;
  report.overall.field = "overall";
  for (const auto& [name, label] : labels) {
    const ExtractedField* got = nullptr;
    for (const ExtractedField& f : fields) {
      if (f.name == name) got = &f;
    }
    if (got == nullptr) continue;  // the template has no such field
    FieldScore& s = ScoreOf(report, name);
    const bool labelled = !CollapseWhitespace(label).empty();
    const bool extracted = got->found && !got->value.raw.empty();
    int tp = 0, fp = 0, fn = 0;
    if (extracted && labelled && SameFieldValue(got->value.raw, label)) {
      tp = 1;
    } else {
      if (extracted) fp = 1;
      if (labelled) fn = 1;
      if (mismatches && (extracted || labelled)) {
        std::string line = name + ": got \"";
        if (extracted) line += got->value.raw;
        line += "\" want \"" + label + "\"";
        mismatches->push_back(std::move(line));
      }
    }
    s.true_positives += tp;
    s.false_positives += fp;
    s.false_negatives += fn;
    report.overall.true_positives += tp;
    report.overall.false_positives += fp;
    report.overall.false_negatives += fn;
  }
}

std::map<std::string, std::string> ReadFieldLabels(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kBadRequest, "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  rapidjson::Document doc;
  const std::string s = text.str();
  doc.Parse(s.data(), s.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    throw Error(ErrorCode::kBadRequest, path + ": not a JSON object");
  }
  std::map<std::string, std::string> out;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    if (it->value.IsString()) out[it->name.GetString()] = it->value.GetString();
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> LabelledDocuments(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> out;
  const fs::path images =
      fs::is_directory(fs::path(dir) / "img") ? fs::path(dir) / "img" : fs::path(dir);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(images, ec)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".jpg" && ext != ".jpeg" && ext != ".png" && ext != ".tif" && ext != ".tiff" &&
        ext != ".webp" && ext != ".bmp" && ext != ".pdf") {
      continue;
    }
    const fs::path key = fs::path(dir) / "key" / (entry.path().stem().string() + ".json");
    if (fs::exists(key)) out.emplace_back(entry.path().string(), key.string());
  }
  if (ec) throw Error(ErrorCode::kBadRequest, "cannot read " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

std::string EvalReportText(const EvalReport& report) {
  std::string out;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-16s %6s %6s %6s %5s %5s %5s\n", "field", "P", "R", "F1", "tp",
                "fp", "fn");
  out += buf;
  auto row = [&](const FieldScore& s) {
    std::snprintf(buf, sizeof buf, "%-16s %6.3f %6.3f %6.3f %5d %5d %5d\n", s.field.c_str(),
                  s.Precision(), s.Recall(), s.F1(), s.true_positives, s.false_positives,
                  s.false_negatives);
    out += buf;
  };
  for (const FieldScore& s : report.fields) row(s);
  row(report.overall);
  std::snprintf(buf, sizeof buf, "%d documents\n", report.documents);
  out += buf;
  return out;
}

}  // namespace scanline
