// Scoring a template against labelled documents: per-field precision, recall and F1.
//
// A labelled folder holds images in img/ (or the folder itself) and, for each image
// NAME.ext, key/NAME.json: {"field": "value as printed", ...}. A field counts as right only
// when the extracted raw value equals the label after collapsing whitespace and ignoring
// case (the rule of the ICDAR 2019 SROIE task 3). An empty label means the document has no
// such field: a value extracted for it is a false positive. Fields of the template without
// any label in the folder are not scored.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/rule_engine.h"

namespace scanline {

struct FieldScore {
  std::string field;
  int true_positives = 0;
  int false_positives = 0;  // extracted but wrong, or extracted where the label is empty
  int false_negatives = 0;  // labelled but missing or wrong
  double Precision() const;
  double Recall() const;
  double F1() const;
};

struct EvalReport {
  std::vector<FieldScore> fields;  // in the order first seen
  FieldScore overall;              // micro-average over the scored fields
  int documents = 0;
};

// Whether `value` equals `label` after collapsing whitespace and ignoring case.
bool SameFieldValue(const std::string& value, const std::string& label);

// Adds one document to `report`: every labelled field of `labels` against `fields`.
// `mismatches` (optional) receives "field: got \"...\" want \"...\"" lines.
void ScoreDocument(const std::vector<ExtractedField>& fields,
                   const std::map<std::string, std::string>& labels, EvalReport& report,
                   std::vector<std::string>* mismatches = nullptr);

// The labels of one document (a flat JSON object of strings). Throws Error(kBadRequest)
// when unreadable.
std::map<std::string, std::string> ReadFieldLabels(const std::string& path);

// The images of a labelled folder that have a key file: (image path, key path) sorted.
std::vector<std::pair<std::string, std::string>> LabelledDocuments(const std::string& dir);

// A table: field, P, R, F1, counts; then the overall line.
std::string EvalReportText(const EvalReport& report);

}  // namespace scanline
