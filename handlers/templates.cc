// /v1/templates... (see handlers/templates.h).
#include "handlers/templates.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <regex>

#include "core/template.h"
#include "core/template_store.h"

namespace scanline {
namespace {

std::vector<std::string> PathParts(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

int IntOption(const QueryParams& query, std::string_view name, int min, int max) {
  auto v = QueryValue(query, name);
  if (!v) throw InvalidOption(name, "is required");
  static const std::regex kInt("[0-9]{1,7}");
  if (!std::regex_match(*v, kInt) || std::stoi(*v) < min || std::stoi(*v) > max) {
    throw InvalidOption(
        name, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return std::stoi(*v);
}

int VersionPart(const std::string& s) {
  static const std::regex kInt("[1-9][0-9]{0,6}");
  if (!std::regex_match(s, kInt)) throw Error(ErrorCode::kNotFound, "no such template version");
  return std::stoi(s);
}

std::string InfoJson(const std::vector<TemplateVersionInfo>& list) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("templates");
  w.StartArray();
  for (const auto& v : list) {
    w.StartObject();
    w.Key("document_type");
    w.String(v.document_type.c_str());
    w.Key("version");
    w.Int(v.version);
    w.Key("status");
    w.String(v.active ? "active" : "inactive");
    w.Key("built_in");
    w.Bool(v.is_default);
    w.Key("fields");
    w.Int(v.field_count);
    w.Key("created_at");
    w.String(v.created_at.c_str());
    w.Key("created_by");
    w.String(v.created_by.c_str());
    w.Key("ab_percent");
    w.Int(v.candidate_percent);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Response Json(std::string body, int status = 200) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

Response HandleTemplates(const Request& request, RequestContext& context) {
  if (context.services.templates == nullptr) {
    throw Error(ErrorCode::kServiceUnavailable, "templates are not available",
                "Services::templates is null");
  }
  TemplateStore& store = *context.services.templates;
  const std::vector<std::string> parts = PathParts(request.path);  // v1, templates, ...
  const QueryParams query = ParseQuery(request.query);
  const bool get = request.method == "GET";
  const size_t n = parts.size();
  if (n < 2 || parts[0] != "v1" || parts[1] != "templates") {
    throw Error(ErrorCode::kNotFound, "no such resource");
  }
  if (n == 2) {
    if (!get) throw Error(ErrorCode::kMethodNotAllowed, "use GET").With("allow", "GET");
    return Json(InfoJson(store.List(QueryValue(query, "document_type").value_or(""))));
  }
  const std::string& type = parts[2];
  if (n == 3 && type == "export" && get) return Json(store.ExportAll());
  if (n == 3 && type == "import" && !get) {
    auto r = store.Import(request.body, context.caller.key_id);
    std::string notes;
    for (const auto& note : r.notes)
      notes += (notes.empty() ? "\"" : ",\"") + JsonEscape(note) + "\"";
    return Json("{\"created\":" + std::to_string(r.created) +
                ",\"skipped\":" + std::to_string(r.skipped) + ",\"notes\":[" + notes + "]}");
  }
  static const std::regex kType("[a-z][a-z0-9_]{0,63}");
  if (!std::regex_match(type, kType)) throw Error(ErrorCode::kNotFound, "no such template");
  if (n == 3 && get) {
    auto list = store.List(type);
    if (list.empty()) throw Error(ErrorCode::kNotFound, "no template \"" + type + "\"");
    return Json(InfoJson(list));
  }
  if (n == 4 && parts[3] == "active" && get) {
    return Json(TemplateToJson(store.Resolve(type, 0, "").tmpl));
  }
  if (n == 5 && parts[3] == "versions" && get) {
    return Json(TemplateToJson(store.Get(type, VersionPart(parts[4]))));
  }
  if (n == 4 && parts[3] == "versions" && !get) {
    if (type == "export" || type == "import") {
      throw Error(ErrorCode::kUnprocessable, "\"" + type + "\" is reserved");
    }
    Template t = ParseTemplate(request.body);
    if (t.document_type != type) {
      throw Error(ErrorCode::kUnprocessable, "document_type \"" + t.document_type +
                                                 "\" differs from the path's \"" + type + "\"");
    }
    Template stored = store.Create(t, context.caller.key_id);
    Response r = Json("{\"document_type\":\"" + stored.document_type +
                          "\",\"version\":" + std::to_string(stored.version) + "}",
                      201);
    r.SetHeader("Location",
                "/v1/templates/" + type + "/versions/" + std::to_string(stored.version));
    return r;
  }
  if (n == 4 && parts[3] == "activate" && !get) {
    const int version = IntOption(query, "version", 1, 9'999'999);
    store.Activate(type, version);
    return Json("{\"document_type\":\"" + type +
                "\",\"active_version\":" + std::to_string(version) + "}");
  }
  if (n == 4 && parts[3] == "rollback" && !get) {
    const int version = store.Rollback(type);
    return Json("{\"document_type\":\"" + type +
                "\",\"active_version\":" + std::to_string(version) + "}");
  }
  if (n == 4 && parts[3] == "split" && !get) {
    const int percent = IntOption(query, "percent", 0, 99);
    const int version = percent == 0 ? 0 : IntOption(query, "version", 1, 9'999'999);
    store.SetSplit(type, version, percent);
    return Json("{\"document_type\":\"" + type +
                "\",\"candidate_version\":" + std::to_string(version) +
                ",\"candidate_percent\":" + std::to_string(percent) + "}");
  }
  throw Error(ErrorCode::kNotFound, "no such template resource");
}

}  // namespace scanline
