// Document templates: what to extract from one type of document, as data.
//
// A template names a document type ("receipt"), carries the prompt and model for the LLM
// engine, and lists fields. Each field has a type, whether it is required or sensitive, how
// its value is validated and normalised (core/field_types.h), and hints for the rule engine
// (core/rule_engine.h): label words in several languages, a value pattern, where the value
// sits relative to its label or on the page. Templates are JSON documents (docs/forms.md
// gives the format); they live in PostgreSQL with a version number (core/template_store.h)
// and the built-in ones in templates/*.json.
//
// ParseTemplate validates everything a recogniser later relies on (patterns compile, names
// are unique, enumerations are known), so a stored template never fails at extraction time.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/field_types.h"

namespace scanline {

// How the rule engine looks for a field's value.
enum class LocateStrategy {
  kLabel,    // next to a label word ("TOTAL 9.00", "Date:" then the value right or below)
  kPattern,  // anywhere on the page by value pattern, labels only raising the score
  kHeader,   // the name block at the top of the page (a receipt's company)
  kBlock,    // a multi-line block (an address), after another field or near keywords
  kMrz,      // an element of a machine readable zone (core/mrz.h)
};
// "label", "pattern", "header", "block", "mrz".
std::string_view LocateName(LocateStrategy s);

// Where a value sits relative to its label.
enum class ValuePosition { kRight, kBelow, kSameLine };
// "right" (on the same line, after the label), "below" (the line under the label, overlapping
// it horizontally), "same_line" (anywhere on the label's line, also before it).
std::string_view PositionName(ValuePosition p);

// Which part of the page a value is expected in.
enum class PageRegion { kAny, kTop, kBottom };
std::string_view RegionName(PageRegion r);  // "any", "top", "bottom"

// Which candidate to keep when several score alike.
enum class Preference { kBest, kFirst, kLast, kLargest };
std::string_view PreferenceName(Preference p);  // "best", "first", "last", "largest"

struct RuleHints {
  LocateStrategy locate = LocateStrategy::kLabel;
  // Label words or phrases by language code ("en", "de", "ms", ...). Matched
  // case-insensitively with a small edit distance for OCR errors.
  std::map<std::string, std::vector<std::string>> labels;
  // Labels whose values must not be taken for this field ("SUBTOTAL" for a total).
  std::map<std::string, std::vector<std::string>> exclude_labels;
  // regular expression (core/pattern.h) that finds the value inside a line; "" = by type.
  std::string value_pattern;
  std::vector<ValuePosition> positions = {ValuePosition::kRight, ValuePosition::kBelow};
  PageRegion region = PageRegion::kAny;
  // Words that make a line more likely to hold the value ("SDN BHD", "GMBH", "JALAN").
  std::vector<std::string> keywords;
  int max_lines = 1;  // lines a value may span (addresses); 1..12
  Preference prefer = Preference::kBest;
  std::string after;        // kBlock: the field whose lines the block follows ("company")
  std::string mrz_element;  // kMrz: "document_number", "surname", "birth_date", ...
  // Money fields: the labels of the lines an amount is checked against, by role:
  // "paid" (CASH), "change" (CHANGE), "subtotal" (SUBTOTAL), "adjustment" (GST, ROUNDING)
  // lines added to the subtotal or total above them. A value confirmed by paid - change or by
  // a subtotal plus its adjustments wins; one printed only there (a misread label) is found.
  std::map<std::string, std::vector<std::string>> checks;
  // Money fields: the smallest step of a payable amount in cents (5 where cash is rounded to
  // 0.05); 0 = any. Amounts off the step lose against those on it.
  int step_cents = 0;
  // A value with a word OCR read with less confidence than this (0..100) is likely misread
  // and is not returned: the field is missing (and `auto` asks the LLM for it). 0 = any.
  int min_word_confidence = 0;
  // Read the lines the value came from a second time from the image (core/line_reread.h)
  // when the extraction has it: for names and addresses in small print.
  bool reread = false;
};

struct FieldSpec {
  std::string name;         // [a-z][a-z0-9_]*, unique in the template
  std::string description;  // for people and for the LLM prompt
  bool required = false;
  bool sensitive = false;  // masked in logs, and in responses when asked
  ValueRules rules;        // type, validation and normalisation
  RuleHints hints;
};

struct Template {
  std::string document_type;  // [a-z][a-z0-9_]{0,63}
  int version = 0;            // assigned by the store; 0 for a template not stored yet
  std::string description;
  std::string prompt;            // instructions for the LLM engine
  std::string model;             // LLM model name; "" = the configured default
  std::string ocr_lang = "eng";  // Tesseract languages ("eng+deu")
  int ocr_psm = 0;  // Tesseract page segmentation mode 1..13 for this type; 0 = ocr.default_psm
  bool key_values = false;  // also return every key -> value pair found by layout
  std::vector<FieldSpec> fields;

  // The field with this name, or nullptr.
  const FieldSpec* Field(std::string_view name) const;
};

// Parses and validates a template document. Throws Error(kUnprocessable) whose detail names
// the JSON path of the first problem ("fields[2].validation.pattern: invalid regular
// expression ..."), or Error(kBadRequest) when `json` is not JSON at all. A "version" member
// is read when present (exports carry it) and otherwise left 0.
Template ParseTemplate(std::string_view json);

// The template as JSON (the format ParseTemplate reads; includes "version" when non-zero).
// Round trip: ParseTemplate(TemplateToJson(t)) == t.
std::string TemplateToJson(const Template& t, bool pretty = false);

bool operator==(const RuleHints& a, const RuleHints& b);
bool operator==(const FieldSpec& a, const FieldSpec& b);
bool operator==(const Template& a, const Template& b);

// Reads and parses one template file. Throws Error(kInternal) when unreadable and the
// errors of ParseTemplate (with the file name in the internal message).
Template LoadTemplateFile(const std::string& path);

// Every *.json template in `dir`, sorted by document type. Throws like LoadTemplateFile, and
// Error(kInternal) when two files name the same document type.
std::vector<Template> LoadTemplateDir(const std::string& dir);

struct FormsConfig;  // core/config.h
// The directory of the built-in templates: forms.templates_dir, else the installed (or
// source-tree) templates/ (core/data_files.h).
std::string BuiltinTemplateDir(const FormsConfig& forms);

// The built-in template of `document_type`. Throws Error(kNotFound) when there is none, and
// the errors of LoadTemplateDir.
Template LoadBuiltinTemplate(const FormsConfig& forms, std::string_view document_type);

// The labels of a hints map flattened over languages, in a stable order.
std::vector<std::string> AllLabels(const std::map<std::string, std::vector<std::string>>& labels);

}  // namespace scanline
