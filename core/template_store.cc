// PostgreSQL store and Redis cache of prompt templates (see core/template_store.h).
#include "core/template_store.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include "core/detail/pg.h"
#include "core/error.h"
#include "core/log.h"
#include "core/redis.h"
#include "core/tessdata.h"

namespace scanline {
namespace {

std::string ActiveKey(std::string_view type) { return "tmpl:active:" + std::string(type); }
std::string VersionKey(std::string_view type, int version) {
  return "tmpl:v:" + std::string(type) + ":" + std::to_string(version);
}

// The stored definition: the template without its version (the row carries that).
std::string Definition(Template t) {
  t.version = 0;
  return TemplateToJson(t);
}

Template FromRow(const std::string& definition, int version) {
  Template t = ParseTemplate(definition);
  t.version = version;
  return t;
}

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

[[noreturn]] void NotFound(std::string_view type, int version) {
  if (version > 0) {
    throw Error(ErrorCode::kNotFound, "no version " + std::to_string(version) + " of template \"" +
                                          std::string(type) + "\"");
  }
  throw Error(ErrorCode::kNotFound,
              "no active template for document type \"" + std::string(type) + "\"");
}

void Insert(pqxx::work& tx, const Template& t, int version, bool is_default,
            std::string_view created_by) {
  tx.exec_params(
      "INSERT INTO prompt_templates (document_type, version, prompt, definition, is_default,"
      " created_by) VALUES ($1, $2, $3, $4::jsonb, $5, $6)",
      t.document_type, version, t.prompt, Definition(t), is_default, std::string(created_by));
}

// Serialises the changes to one type's versions, activation and split: the row lock of the
// type's newest version would not exist for a new type, so a transaction-level advisory lock
// on its name. Without it two activations at once would both pass the one-active check.
void LockType(pqxx::work& tx, const std::string& type) {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('prompt_templates:' || $1))", type);
}

int NextVersion(pqxx::work& tx, const std::string& type) {
  LockType(tx, type);
  return tx
      .exec_params1(
          "SELECT coalesce(max(version), 0) + 1 FROM prompt_templates"
          " WHERE document_type = $1",
          type)[0]
      .as<int>();
}

void ActivateIn(pqxx::work& tx, const std::string& type, int version, bool record) {
  auto exists = tx.exec_params(
      "SELECT 1 FROM prompt_templates WHERE document_type = $1 AND version = $2", type, version);
  if (exists.empty()) NotFound(type, version);
  tx.exec_params(
      "UPDATE prompt_templates SET status = 'inactive'"
      " WHERE document_type = $1 AND status = 'active' AND version <> $2",
      type, version);
  tx.exec_params(
      "UPDATE prompt_templates SET status = 'active'"
      " WHERE document_type = $1 AND version = $2",
      type, version);
  tx.exec_params(
      "DELETE FROM prompt_template_splits WHERE document_type = $1"
      " AND candidate_version = $2",
      type, version);
  if (record) {
    tx.exec_params(
        "INSERT INTO prompt_template_activations (document_type, version)"
        " VALUES ($1, $2)",
        type, version);
  }
}

}  // namespace

bool InCandidateShare(std::string_view split_key, int percent) {
  if (percent <= 0) return false;
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : split_key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int>(h % 100) < percent;
}

TemplateStore::TemplateStore(Database& database, RedisClient* redis, int cache_ttl_s,
                             int verify_every_ms)
    : database_(database),
      redis_(redis),
      cache_ttl_s_(cache_ttl_s > 0 ? cache_ttl_s : 3600),
      verify_every_(std::max(verify_every_ms, 0)) {}

std::optional<std::string> TemplateStore::CacheGet(const std::string& key) {
  if (redis_ == nullptr) return std::nullopt;
  try {
    return redis_->Get(key);
  } catch (const Error& e) {
    LogDebug("template cache unavailable: " + e.internal());
    return std::nullopt;
  }
}

void TemplateStore::CacheSet(const std::string& key, const std::string& value) {
  if (redis_ == nullptr) return;
  try {
    redis_->Set(key, value, cache_ttl_s_);
  } catch (const Error& e) {
    LogDebug("template cache unavailable: " + e.internal());
  }
}

void TemplateStore::Invalidate(std::string_view document_type) {
  if (redis_ == nullptr) return;
  try {
    redis_->Delete(ActiveKey(document_type));
  } catch (const Error& e) {
    LogWarning("template cache of \"" + std::string(document_type) +
               "\" not invalidated (Redis unavailable: " + e.internal() +
               "); workers may serve the previous version until the cache TTL passes");
  }
}

// {"active":{template},"candidate":{template}|null,"percent":N}
std::string TemplateStore::LoadActiveSet(std::string_view document_type) {
  const std::string type(document_type);
  return WithConnection(database_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto active = tx.exec_params(
        "SELECT version, definition::text FROM prompt_templates"
        " WHERE document_type = $1 AND status = 'active'",
        type);
    if (active.empty()) NotFound(type, 0);
    std::string out =
        "{\"active\":" +
        TemplateToJson(FromRow(active[0][1].as<std::string>(), active[0][0].as<int>())) +
        ",\"candidate\":";
    auto split = tx.exec_params(
        "SELECT s.candidate_version, s.candidate_percent, t.definition::text"
        " FROM prompt_template_splits s JOIN prompt_templates t"
        " ON t.document_type = s.document_type AND t.version = s.candidate_version"
        " WHERE s.document_type = $1",
        type);
    if (split.empty()) {
      out += "null,\"percent\":0}";
    } else {
      out += TemplateToJson(FromRow(split[0][2].as<std::string>(), split[0][0].as<int>())) +
             ",\"percent\":" + std::to_string(split[0][1].as<int>()) + "}";
    }
    return out;
  });
}

const TemplateStore::ParsedSet& TemplateStore::Parsed(const std::string& type,
                                                      const std::string& set) {
  auto known = parsed_.find(type);
  if (known != parsed_.end() && known->second.json == set) return known->second;
  rapidjson::Document doc;
  doc.Parse(set.data(), set.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("active") ||
      !doc["active"].IsObject()) {
    throw Error(ErrorCode::kInternal, "template cache entry unreadable", ActiveKey(type));
  }
  ParsedSet parsed;
  parsed.json = set;
  parsed.active = ParseTemplate(ToJson(doc["active"]));
  if (doc.HasMember("candidate") && doc["candidate"].IsObject()) {
    parsed.candidate = ParseTemplate(ToJson(doc["candidate"]));
  }
  if (doc.HasMember("percent") && doc["percent"].IsInt()) parsed.percent = doc["percent"].GetInt();
  return parsed_[type] = std::move(parsed);
}

bool TemplateStore::StillCurrent(const std::string& type, const ParsedSet& set) {
  const int candidate = set.candidate ? set.candidate->version : 0;
  try {
    return WithConnection(database_, [&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      // Versions never change once created: the active version and the split say it all.
      auto r = tx.exec_params(
          "SELECT t.version, coalesce(s.candidate_version, 0), coalesce(s.candidate_percent, 0)"
          " FROM (SELECT 1) AS one"
          " LEFT JOIN prompt_templates t ON t.document_type = $1 AND t.status = 'active'"
          " LEFT JOIN prompt_template_splits s ON s.document_type = $1",
          type);
      if (r.empty() || r[0][0].is_null()) return false;
      return r[0][0].as<int>() == set.active.version && r[0][1].as<int>() == candidate &&
             r[0][2].as<int>() == set.percent;
    });
  } catch (const Error& e) {
    LogDebug("template cache of \"" + type + "\" not checked: " + e.internal());
    return true;
  }
}

ResolvedTemplate TemplateStore::Resolve(std::string_view document_type, int version,
                                        std::string_view split_key) {
  ResolvedTemplate out;
  if (version > 0) {
    const std::pair<std::string, int> id(std::string(document_type), version);
    if (auto known = versions_.find(id); known != versions_.end()) {
      out.tmpl = known->second;
      out.cached = true;
      return out;
    }
    const std::string key = VersionKey(document_type, version);
    if (auto cached = CacheGet(key)) {
      try {
        out.tmpl = ParseTemplate(*cached);
        out.cached = true;
      } catch (const Error& e) {
        LogWarning("template cache entry " + key + " unreadable (" + std::string(e.detail()) +
                   "); replaced from PostgreSQL");
      }
    }
    if (!out.cached) {
      out.tmpl = Get(document_type, version);
      CacheSet(key, TemplateToJson(out.tmpl));
    }
    if (versions_.size() >= kMaxVersions) versions_.clear();
    versions_.emplace(id, out.tmpl);
    return out;
  }
  const std::string key = ActiveKey(document_type);
  const std::string type(document_type);
  const auto now = std::chrono::steady_clock::now();
  const ParsedSet* set = nullptr;
  if (auto cached = CacheGet(key)) {
    try {
      set = &Parsed(type, *cached);
      out.cached = true;
    } catch (const Error& e) {
      LogWarning("template cache of \"" + type + "\" unreadable (" + std::string(e.detail()) +
                 "); replaced from PostgreSQL");
    }
    if (set) {
      auto verified = verified_.find(type);
      if (verified == verified_.end() || now - verified->second >= verify_every_) {
        if (!StillCurrent(type, *set)) {
          LogInfo("template cache of \"" + type + "\" was stale; replaced from PostgreSQL");
          set = nullptr;
          out.cached = false;
        }
        verified_[type] = now;
      }
    }
  }
  if (!set) {
    const std::string loaded = LoadActiveSet(document_type);
    CacheSet(key, loaded);
    verified_[type] = now;
    set = &Parsed(type, loaded);
  }
  if (set->percent > 0 && set->candidate && InCandidateShare(split_key, set->percent)) {
    out.tmpl = *set->candidate;
    out.candidate = true;
  } else {
    out.tmpl = set->active;
  }
  return out;
}

Template TemplateStore::Get(std::string_view document_type, int version) {
  const std::string type(document_type);
  return WithConnection(database_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params(
        "SELECT definition::text FROM prompt_templates WHERE document_type = $1 AND version = $2",
        type, version);
    if (r.empty()) NotFound(type, version);
    return FromRow(r[0][0].as<std::string>(), version);
  });
}

std::vector<TemplateVersionInfo> TemplateStore::List(std::string_view document_type) {
  const std::string type(document_type);
  return WithConnection(database_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params(
        "SELECT t.document_type, t.version, t.status = 'active', t.is_default,"
        " to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " t.created_by, coalesce(s.candidate_percent, 0),"
        " jsonb_array_length(t.definition->'fields')"
        " FROM prompt_templates t LEFT JOIN prompt_template_splits s"
        " ON s.document_type = t.document_type AND s.candidate_version = t.version"
        " WHERE $1 = '' OR t.document_type = $1 ORDER BY t.document_type, t.version",
        type);
    std::vector<TemplateVersionInfo> out;
    for (const auto& row : r) {
      TemplateVersionInfo info;
      info.document_type = row[0].as<std::string>();
      info.version = row[1].as<int>();
      info.active = row[2].as<bool>();
      info.is_default = row[3].as<bool>();
      info.created_at = row[4].as<std::string>();
      info.created_by = row[5].as<std::string>();
      info.candidate_percent = row[6].as<int>();
      info.field_count = row[7].as<int>();
      out.push_back(std::move(info));
    }
    return out;
  });
}

void TemplateStore::CheckLanguages(const Template& t) const {
  if (languages_.empty()) return;
  try {
    CheckLanguageSet(t.ocr_lang, languages_);
  } catch (const Error& e) {
    // The client sent a template, not a request option: the template is what is wrong.
    throw Error(ErrorCode::kUnprocessable, "ocr_lang: " + std::string(e.detail()));
  }
}

Template TemplateStore::Create(const Template& t, std::string_view created_by) {
  // Re-parse the serialised form: whatever the caller built goes through the same validation
  // as a template read from JSON.
  Template checked = ParseTemplate(Definition(t));
  CheckLanguages(checked);
  const bool first = WithConnection(database_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    checked.version = NextVersion(tx, checked.document_type);
    Insert(tx, checked, checked.version, false, created_by);
    const bool is_first = checked.version == 1;
    if (is_first) ActivateIn(tx, checked.document_type, 1, true);
    tx.commit();
    return is_first;
  });
  if (first) Invalidate(checked.document_type);
  return checked;
}

void TemplateStore::Activate(std::string_view document_type, int version) {
  const std::string type(document_type);
  WithConnection(database_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    LockType(tx, type);
    ActivateIn(tx, type, version, true);
    tx.commit();
  });
  Invalidate(type);
  LogInfo("template " + type + " v" + std::to_string(version) + " activated");
}

int TemplateStore::Rollback(std::string_view document_type) {
  const std::string type(document_type);
  const int version = WithConnection(database_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    LockType(tx, type);
    auto r = tx.exec_params(
        "SELECT id, version FROM prompt_template_activations"
        " WHERE document_type = $1 AND NOT rolled_back ORDER BY id DESC LIMIT 2",
        type);
    if (r.size() < 2) {
      throw Error(ErrorCode::kConflict,
                  "template \"" + type + "\" has no earlier activation to roll back to");
    }
    tx.exec_params("UPDATE prompt_template_activations SET rolled_back = true WHERE id = $1",
                   r[0][0].as<int64_t>());
    const int previous = r[1][1].as<int>();
    ActivateIn(tx, type, previous, false);
    tx.commit();
    return previous;
  });
  Invalidate(type);
  LogInfo("template " + type + " rolled back to v" + std::to_string(version));
  return version;
}

void TemplateStore::SetSplit(std::string_view document_type, int candidate_version, int percent) {
  const std::string type(document_type);
  if (percent < 0 || percent > 99) throw InvalidOption("percent", "must be from 0 to 99");
  WithConnection(database_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    LockType(tx, type);
    if (percent == 0) {
      tx.exec_params("DELETE FROM prompt_template_splits WHERE document_type = $1", type);
    } else {
      auto r = tx.exec_params(
          "SELECT status FROM prompt_templates WHERE document_type = $1 AND version = $2", type,
          candidate_version);
      if (r.empty()) NotFound(type, candidate_version);
      if (r[0][0].as<std::string>() == "active") {
        throw InvalidOption("version", "is the active version already");
      }
      tx.exec_params(
          "INSERT INTO prompt_template_splits (document_type, candidate_version,"
          " candidate_percent) VALUES ($1, $2, $3) ON CONFLICT (document_type) DO UPDATE SET"
          " candidate_version = excluded.candidate_version,"
          " candidate_percent = excluded.candidate_percent",
          type, candidate_version, percent);
    }
    tx.commit();
  });
  Invalidate(type);
}

std::string TemplateStore::ExportAll() {
  return WithConnection(database_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec(
        "SELECT version, status, definition::text FROM prompt_templates"
        " ORDER BY document_type, version");
    std::string out = "{\"templates\":[";
    bool first = true;
    for (const auto& row : rows) {
      std::string t = TemplateToJson(FromRow(row[2].as<std::string>(), row[0].as<int>()));
      // Append the store's status to the template object.
      t.pop_back();
      t += ",\"status\":\"" + row[1].as<std::string>() + "\"}";
      out += (first ? "" : ",") + t;
      first = false;
    }
    out += "],\"splits\":[";
    auto splits = tx.exec(
        "SELECT document_type, candidate_version, candidate_percent FROM prompt_template_splits"
        " ORDER BY document_type");
    first = true;
    for (const auto& row : splits) {
      out += std::string(first ? "" : ",") + "{\"document_type\":\"" + row[0].as<std::string>() +
             "\",\"candidate_version\":" + row[1].as<std::string>() +
             ",\"candidate_percent\":" + row[2].as<std::string>() + "}";
      first = false;
    }
    out += "]}";
    return out;
  });
}

TemplateStore::ImportResult TemplateStore::Import(std::string_view json,
                                                  std::string_view created_by) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    throw Error(ErrorCode::kBadRequest, "import is not a JSON object");
  }
  if (!doc.HasMember("templates") || !doc["templates"].IsArray()) {
    throw Error(ErrorCode::kUnprocessable, "templates: must be an array");
  }
  struct Item {
    Template t;
    bool active = false;
  };
  std::vector<Item> items;
  const auto& arr = doc["templates"];
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    if (!arr[i].IsObject()) {
      throw Error(ErrorCode::kUnprocessable, "templates[" + std::to_string(i) + "]: not an object");
    }
    Item item;
    try {
      item.t = ParseTemplate(ToJson(arr[i]));
      CheckLanguages(item.t);
    } catch (const Error& e) {
      throw Error(ErrorCode::kUnprocessable,
                  "templates[" + std::to_string(i) + "]." + std::string(e.detail()));
    }
    item.active = arr[i].HasMember("status") && arr[i]["status"].IsString() &&
                  std::string_view(arr[i]["status"].GetString()) == "active";
    items.push_back(std::move(item));
  }
  ImportResult result;
  std::set<std::string> touched;
  WithConnection(database_, [&](pqxx::connection& c) {
    result = ImportResult{};
    touched.clear();
    pqxx::work tx(c);
    // Exported version number -> stored version number, per type (for splits).
    std::map<std::pair<std::string, int>, int> stored_as;
    for (const Item& item : items) {
      const std::string& type = item.t.document_type;
      LockType(tx, type);
      const std::string definition = Definition(item.t);
      int version = item.t.version;
      auto same = tx.exec_params(
          "SELECT version FROM prompt_templates WHERE document_type = $1"
          " AND definition = $2::jsonb ORDER BY version LIMIT 1",
          type, definition);
      if (!same.empty() && (version == 0 || same[0][0].as<int>() == version)) {
        ++result.skipped;
        version = same[0][0].as<int>();
      } else {
        bool taken =
            version == 0 || !tx.exec_params(
                                   "SELECT 1 FROM prompt_templates WHERE document_type = $1"
                                   " AND version = $2",
                                   type, version)
                                 .empty();
        if (taken) {
          const int exported = version;
          version = NextVersion(tx, type);
          if (exported > 0) {
            result.notes.push_back(type + " v" + std::to_string(exported) + " stored as v" +
                                   std::to_string(version) + " (v" + std::to_string(exported) +
                                   " differs)");
          }
        }
        Insert(tx, item.t, version, false, created_by);
        ++result.created;
      }
      stored_as[{type, item.t.version}] = version;
      if (item.active) {
        auto cur = tx.exec_params(
            "SELECT version FROM prompt_templates WHERE document_type = $1 AND status = 'active'",
            type);
        if (cur.empty() || cur[0][0].as<int>() != version) ActivateIn(tx, type, version, true);
      }
      touched.insert(type);
    }
    if (doc.HasMember("splits") && doc["splits"].IsArray()) {
      for (const auto& s : doc["splits"].GetArray()) {
        if (!s.IsObject() || !s.HasMember("document_type") || !s["document_type"].IsString() ||
            !s.HasMember("candidate_version") || !s["candidate_version"].IsInt() ||
            !s.HasMember("candidate_percent") || !s["candidate_percent"].IsInt()) {
          throw Error(ErrorCode::kUnprocessable, "splits: bad entry");
        }
        const std::string type = s["document_type"].GetString();
        auto it = stored_as.find({type, s["candidate_version"].GetInt()});
        if (it == stored_as.end()) continue;
        const int percent = s["candidate_percent"].GetInt();
        if (percent < 1 || percent > 99) {
          throw Error(ErrorCode::kUnprocessable, "splits: candidate_percent must be 1..99");
        }
        tx.exec_params(
            "INSERT INTO prompt_template_splits (document_type, candidate_version,"
            " candidate_percent) VALUES ($1, $2, $3) ON CONFLICT (document_type) DO UPDATE SET"
            " candidate_version = excluded.candidate_version,"
            " candidate_percent = excluded.candidate_percent",
            type, it->second, percent);
        touched.insert(type);
      }
    }
    tx.commit();
  });
  for (const std::string& type : touched) Invalidate(type);
  return result;
}

std::vector<std::string> TemplateStore::LoadBuiltins(const std::vector<Template>& templates) {
  std::vector<std::string> notes;
  for (const Template& builtin : templates) {
    const std::string type = builtin.document_type;
    bool activated = false;
    WithConnection(database_, [&](pqxx::connection& c) {
      activated = false;
      pqxx::work tx(c);
      LockType(tx, type);
      auto same = tx.exec_params(
          "SELECT version FROM prompt_templates WHERE document_type = $1"
          " AND definition = $2::jsonb",
          type, Definition(builtin));
      if (!same.empty()) return;
      const int version = NextVersion(tx, type);
      Insert(tx, builtin, version, true, "migrate");
      auto active = tx.exec_params(
          "SELECT 1 FROM prompt_templates WHERE document_type = $1 AND status = 'active'", type);
      if (active.empty()) {
        ActivateIn(tx, type, version, true);
        activated = true;
      }
      tx.commit();
      notes.push_back(type + " v" + std::to_string(version) +
                      (activated ? " (active)" : " (stored; activate it to use it)"));
    });
    if (activated) Invalidate(type);
  }
  return notes;
}

}  // namespace scanline
