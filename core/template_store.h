// Versioned prompt templates in PostgreSQL, served through a Redis cache.
//
// Versions are numbered per document type from 1 and never change once created. One version
// per type is active (served when a request names none); activations are kept as a history so
// a rollback returns to the version active before. A type may split traffic: a share of the
// requests naming no version get a candidate version instead (A/B), chosen by a hash of the
// request id so a retried request gets the same version.
//
// Cache: the active set of a type (active version, candidate and its share) is one Redis value
// under "tmpl:active:<type>" with the configured TTL; a specific version under
// "tmpl:v:<type>:<version>". Activate, rollback and split changes delete the active key after
// their transaction commits, so every worker reads the new state on its next request (there
// is no per-process copy to go stale). While Redis is down every read goes to PostgreSQL and
// requests still succeed. A change made while Redis is down (or unreachable from the process
// making it) cannot delete the cached value; so that it is not served until the TTL passes,
// each store checks a cached active set against PostgreSQL at most every `verify_every_ms`
// per type (one indexed query of the active version and the split) and replaces it when the
// two differ: every worker serves a change within that time whatever Redis missed.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/template.h"

namespace scanline {

class Database;     // core/database.h
class RedisClient;  // core/redis.h

struct TemplateVersionInfo {
  std::string document_type;
  int version = 0;
  bool active = false;
  bool is_default = false;    // loaded from the built-in templates
  std::string created_at;     // RFC 3339, UTC
  std::string created_by;     // key id or "migrate"/"cli"; "" when unknown
  int candidate_percent = 0;  // > 0 when this version is the A/B candidate of its type
  int field_count = 0;
};

// A template picked for one request, and how it was picked.
struct ResolvedTemplate {
  Template tmpl;
  bool candidate = false;  // chosen by the A/B split
  bool cached = false;     // not read from PostgreSQL (Redis, or this worker's copy of a version)
};

class TemplateStore {
 public:
  // `redis` may be null (no cache). cache_ttl_s > 0. verify_every_ms: how often a cached
  // active set is checked against PostgreSQL, per type.
  TemplateStore(Database& database, RedisClient* redis, int cache_ttl_s,
                int verify_every_ms = 5000);

  // The OCR languages installed here (InstalledLanguages, sorted): Create and Import then refuse a
  // template whose ocr_lang names another, with Error(kUnprocessable), instead of storing one
  // every extraction would fail on. Empty (the default): not checked.
  void set_installed_languages(std::vector<std::string> languages) {
    languages_ = std::move(languages);
  }

  // The template for a request: `version` > 0 names one; 0 takes the active version, or the
  // A/B candidate for the share of `split_key` hashes the split sends there. Throws
  // Error(kNotFound) for an unknown type or version, Error(kServiceUnavailable) when
  // PostgreSQL is needed and down.
  ResolvedTemplate Resolve(std::string_view document_type, int version, std::string_view split_key);

  // One version straight from PostgreSQL (no cache). Error(kNotFound) when absent.
  Template Get(std::string_view document_type, int version);

  // Versions of one type, or of every type when `document_type` is "", by type then version.
  std::vector<TemplateVersionInfo> List(std::string_view document_type = "");

  // Stores `t` as the next version of its type (t.version is ignored) and returns it with its
  // version. The first version of a type becomes active. Throws Error(kUnprocessable) when
  // the template fails validation (it is re-parsed from its JSON form).
  Template Create(const Template& t, std::string_view created_by);

  // Makes `version` the active one and records the activation. Clears an A/B split whose
  // candidate is that version. Error(kNotFound) when absent.
  void Activate(std::string_view document_type, int version);

  // Undoes the newest activation: the version active before it becomes active again. Returns
  // that version. Error(kConflict) when there is nothing to roll back to.
  int Rollback(std::string_view document_type);

  // Sends `percent` (1..99) of the requests naming no version to `candidate_version`;
  // percent 0 removes the split. Error(kInvalidOption) for a bad percent or a candidate equal
  // to the active version, Error(kNotFound) for an unknown version.
  void SetSplit(std::string_view document_type, int candidate_version, int percent);

  // Every version of every type as one JSON document: {"templates":[{...,"version":N,
  // "status":"active|inactive"}], "splits":[{"document_type","candidate_version",
  // "candidate_percent"}]}.
  std::string ExportAll();

  struct ImportResult {
    int created = 0;                 // versions stored
    int skipped = 0;                 // identical versions already present
    std::vector<std::string> notes;  // "receipt v3 stored as v5 (v3 differs)"
  };
  // Reads an ExportAll document. A version whose number is free is stored under it; one
  // present with the same definition is skipped; one present with another definition is
  // stored as the next version. Versions exported as active are activated, splits restored.
  // All in one transaction. Error(kBadRequest/kUnprocessable) for a bad document.
  ImportResult Import(std::string_view json, std::string_view created_by);

  // Loads built-in templates (`scanline migrate`): each is stored as a new version when no
  // version of its type has the same definition, and activated when its type has no active
  // version. Returns "receipt v1" style notes of what was stored.
  std::vector<std::string> LoadBuiltins(const std::vector<Template>& templates);

  // Drops the cached active set of a type (done by every change above).
  void Invalidate(std::string_view document_type);

 private:
  std::optional<std::string> CacheGet(const std::string& key);
  void CacheSet(const std::string& key, const std::string& value);
  std::string LoadActiveSet(std::string_view document_type);
  // An active set (the active version, the A/B candidate and its share) as read from the
  // cache or PostgreSQL, parsed.
  struct ParsedSet {
    std::string json;  // as read
    Template active;
    std::optional<Template> candidate;
    int percent = 0;
  };
  // `set` parsed: the last set of `type` is kept, so an unchanged set is parsed once per
  // worker, not once per request. Throws Error when `set` is not a readable active set.
  const ParsedSet& Parsed(const std::string& type, const std::string& set);
  // Whether the cached active set `set` of a type still is PostgreSQL's (true when
  // PostgreSQL cannot tell: the cache is served then).
  bool StillCurrent(const std::string& type, const ParsedSet& set);

  Database& database_;
  RedisClient* redis_;
  int cache_ttl_s_;
  std::chrono::milliseconds verify_every_;
  std::map<std::string, std::chrono::steady_clock::time_point> verified_;  // per type
  // Throws Error(kUnprocessable) when t.ocr_lang is not a set of languages_ (CheckLanguageSet).
  void CheckLanguages(const Template& t) const;
  std::vector<std::string> languages_;
  std::map<std::string, ParsedSet> parsed_;  // per type
  // Named versions this worker has read: a version never changes once created, so it is
  // read from the cache or PostgreSQL and parsed once (at most kMaxVersions kept).
  std::map<std::pair<std::string, int>, Template> versions_;
  static constexpr size_t kMaxVersions = 256;
};

// Which arm of an A/B split a key falls in: true for the candidate when the key's hash mod
// 100 is below `percent`. Stable across processes and builds (FNV-1a).
bool InCandidateShare(std::string_view split_key, int percent);

}  // namespace scanline
