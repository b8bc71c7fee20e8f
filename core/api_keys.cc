// API keys in PostgreSQL (see core/api_keys.h). Sealed secrets travel to and from SQL as hex
// (decode/encode) so no binary parameter handling is needed; scopes as a comma-joined text
// (they are validated against a fixed set of plain names).
#include "core/api_keys.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "core/config.h"
#include "core/database.h"
#include "core/detail/pg.h"
#include "core/detail/text.h"
#include "core/metrics.h"

namespace scanline {
namespace {

constexpr std::string_view kKeyIdPrefix = "SLK";
constexpr size_t kKeyIdRandomChars = 17;
constexpr size_t kSecretRandomBytes = 30;  // 240 bits -> 40 base64url characters
constexpr size_t kMaxNameLength = 200;
constexpr size_t kMaxCacheEntries = 10000;
constexpr std::chrono::seconds kNoteUsedEvery{60};

// Associated data for sealing: binds a sealed secret to its row.
std::string SealContext(const std::string& key_id) { return "scanline/api_clients/" + key_id; }

std::string RandomKeyId() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id(kKeyIdPrefix);
  while (id.size() < kKeyIdPrefix.size() + kKeyIdRandomChars) {
    for (char byte : RandomBytes(32)) {
      auto b = static_cast<unsigned char>(byte);
      if (b >= 252) continue;  // 252 = 7 * 36: reject to keep the choice uniform
      id.push_back(kAlphabet[b % 36]);
      if (id.size() == kKeyIdPrefix.size() + kKeyIdRandomChars) break;
    }
  }
  return id;
}

// RFC 4648 section 5 alphabet, no padding (the input is a multiple of 3 bytes).
std::string RandomSecret() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string raw = RandomBytes(kSecretRandomBytes);
  std::string out;
  out.reserve(raw.size() / 3 * 4);
  for (size_t i = 0; i + 2 < raw.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(raw[i]) << 16 |
                 static_cast<unsigned char>(raw[i + 1]) << 8 |
                 static_cast<unsigned char>(raw[i + 2]);
    out.push_back(kAlphabet[n >> 18 & 63]);
    out.push_back(kAlphabet[n >> 12 & 63]);
    out.push_back(kAlphabet[n >> 6 & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

std::string SealedHex(const MasterKey& key, const std::string& secret, const std::string& key_id) {
  return LowerHex(Seal(key, secret, SealContext(key_id)));
}

std::string OpenHex(const MasterKey& key, const std::string& hex, const std::string& key_id) {
  std::string sealed;
  if (!DecodeHex(hex, sealed)) {
    throw Error(ErrorCode::kInternal, "internal error", "api_clients " + key_id + ": bad bytea");
  }
  return Open(key, sealed, SealContext(key_id));
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const std::string& s : scopes) {
    if (!out.empty()) out.push_back(',');
    out += s;
  }
  return out;
}

void ValidateLimit(const char* option, int64_t value) {
  if (value < 0 || value > INT_MAX) {
    throw InvalidOption(option, "must be between 0 (no limit) and 2147483647");
  }
}

// Runs `fn(pqxx::connection&)`, turning SQL errors into Error(kInternal) with the SQL state.
template <typename Fn>
auto Run(Database& database, Fn&& fn) {
  try {
    return WithConnection(database, std::forward<Fn>(fn));
  } catch (const pqxx::sql_error& e) {
    throw Error(ErrorCode::kInternal, "internal error",
                std::string("api_clients: ") + e.what() + " [" + e.sqlstate() + "]");
  }
}

constexpr char kClientColumns[] =
    "key_id, name, array_to_string(scopes, ','), rate_per_minute, daily_quota, status, "
    "previous_secret_sealed IS NOT NULL, extract(epoch FROM created_at)::bigint, "
    "extract(epoch FROM updated_at)::bigint, coalesce(extract(epoch FROM rotated_at)::bigint, 0), "
    "coalesce(extract(epoch FROM revoked_at)::bigint, 0), "
    "coalesce(extract(epoch FROM last_used_at)::bigint, 0)";

ApiClient ClientFromRow(const pqxx::row& row) {
  ApiClient c;
  c.key_id = row[0].as<std::string>();
  c.name = row[1].as<std::string>();
  c.scopes = SplitScopes(row[2].as<std::string>());
  c.rate_per_minute = row[3].as<int64_t>();
  c.daily_quota = row[4].as<int64_t>();
  c.revoked = row[5].as<std::string>() == "revoked";
  c.has_previous_secret = row[6].as<bool>();
  c.created_at = row[7].as<int64_t>();
  c.updated_at = row[8].as<int64_t>();
  c.rotated_at = row[9].as<int64_t>();
  c.revoked_at = row[10].as<int64_t>();
  c.last_used_at = row[11].as<int64_t>();
  return c;
}

[[noreturn]] void NoSuchKey(const std::string& key_id) {
  throw Error(ErrorCode::kNotFound, "no such API key", "api_clients: " + key_id);
}

}  // namespace

bool ActiveKey::HasScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

std::string MasterKeyPath(const AuthConfig& auth) {
  if (!auth.master_key_file.empty()) return auth.master_key_file;
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir && *dir) {
    return std::string(dir) + "/master.key";
  }
  throw Error(ErrorCode::kInternal, "internal error",
              "no master key: set auth.master_key_file, or run under systemd with "
              "LoadCredential=master.key:...");
}

std::vector<std::string> SplitScopes(std::string_view text) {
  std::vector<std::string> scopes;
  for (std::string_view item : detail::SplitOn(text, ',')) {
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) scopes.emplace_back(item);
  }
  return scopes;
}

void ValidateScopes(const std::vector<std::string>& scopes) {
  std::string known;
  for (std::string_view s : kKnownScopes) known += (known.empty() ? "" : ", ") + std::string(s);
  if (scopes.empty()) throw InvalidOption("scopes", "give at least one of " + known);
  for (size_t i = 0; i < scopes.size(); ++i) {
    if (std::find(std::begin(kKnownScopes), std::end(kKnownScopes), scopes[i]) ==
        std::end(kKnownScopes)) {
      throw InvalidOption("scopes", "unknown scope '" + scopes[i] + "'; known: " + known);
    }
    if (std::find(scopes.begin(), scopes.begin() + static_cast<std::ptrdiff_t>(i), scopes[i]) !=
        scopes.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw InvalidOption("scopes", "'" + scopes[i] + "' is given twice");
    }
  }
}

ApiKeyStore::ApiKeyStore(Database& database, const MasterKey& master_key, int cache_ms,
                         int grace_ms, Clock clock)
    : database_(database),
      master_key_(master_key),
      cache_ttl_(cache_ms),
      grace_(std::max(grace_ms, cache_ms)),
      clock_(std::move(clock)) {}

ApiKeyStore::~ApiKeyStore() = default;

IssuedKey ApiKeyStore::Create(const ApiClientSpec& spec) {
  if (spec.name.empty() || spec.name.size() > kMaxNameLength ||
      std::any_of(spec.name.begin(), spec.name.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    throw InvalidOption("name", "must be 1 to 200 characters without control characters");
  }
  ValidateScopes(spec.scopes);
  ValidateLimit("rpm", spec.rate_per_minute);
  ValidateLimit("daily", spec.daily_quota);
  IssuedKey issued;
  issued.secret = RandomSecret();
  // 36^17 ids make a collision unlikely; should one happen, draw again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    issued.key_id = RandomKeyId();
    std::string sealed = SealedHex(master_key_, issued.secret, issued.key_id);
    bool inserted = Run(database_, [&](pqxx::connection& c) {
      pqxx::work tx(c);
      pqxx::result r = tx.exec_params(
          "INSERT INTO api_clients (key_id, name, secret_sealed, scopes, rate_per_minute, "
          "daily_quota) VALUES ($1, $2, decode($3, 'hex'), string_to_array($4, ',')::text[], "
          "$5, $6) ON CONFLICT (key_id) DO NOTHING RETURNING 1",
          issued.key_id, spec.name, sealed, JoinScopes(spec.scopes), spec.rate_per_minute,
          spec.daily_quota);
      tx.commit();
      return !r.empty();
    });
    if (inserted) return issued;
  }
  throw Error(ErrorCode::kInternal, "internal error", "api_clients: no free key id in 5 draws");
}

std::vector<ApiClient> ApiKeyStore::List() {
  return Run(database_, [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    pqxx::result r = tx.exec(std::string("SELECT ") + kClientColumns +
                             " FROM api_clients ORDER BY created_at, key_id");
    std::vector<ApiClient> clients;
    for (const auto& row : r) clients.push_back(ClientFromRow(row));
    return clients;
  });
}

std::optional<ApiClient> ApiKeyStore::Get(const std::string& key_id) {
  return Run(database_, [&](pqxx::connection& c) -> std::optional<ApiClient> {
    pqxx::nontransaction tx(c);
    pqxx::result r = tx.exec_params(
        std::string("SELECT ") + kClientColumns + " FROM api_clients WHERE key_id = $1", key_id);
    if (r.empty()) return std::nullopt;
    return ClientFromRow(r[0]);
  });
}

IssuedKey ApiKeyStore::Rotate(const std::string& key_id) {
  IssuedKey issued{key_id, RandomSecret()};
  std::string sealed = SealedHex(master_key_, issued.secret, key_id);
  Run(database_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    // The right-hand sides read the row before the update: the current secret moves to the
    // previous slot, dropping the older previous one.
    pqxx::result r = tx.exec_params(
        "UPDATE api_clients SET previous_secret_sealed = secret_sealed, "
        "secret_sealed = decode($2, 'hex'), rotated_at = now(), updated_at = now() "
        "WHERE key_id = $1 AND status = 'active' RETURNING 1",
        key_id, sealed);
    if (r.empty()) {
      pqxx::result s = tx.exec_params("SELECT status FROM api_clients WHERE key_id = $1", key_id);
      if (s.empty()) NoSuchKey(key_id);
      throw Error(ErrorCode::kConflict, "the key is revoked and cannot be rotated",
                  "api_clients: rotate " + key_id);
    }
    tx.commit();
    return 0;
  });
  cache_.erase(key_id);
  return issued;
}

bool ApiKeyStore::DropPreviousSecret(const std::string& key_id) {
  bool dropped = Run(database_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    pqxx::result r = tx.exec_params(
        "UPDATE api_clients SET previous_secret_sealed = NULL, updated_at = now() "
        "WHERE key_id = $1 AND previous_secret_sealed IS NOT NULL RETURNING 1",
        key_id);
    if (r.empty()) {
      if (tx.exec_params("SELECT 1 FROM api_clients WHERE key_id = $1", key_id).empty()) {
        NoSuchKey(key_id);
      }
      return false;
    }
    tx.commit();
    return true;
  });
  cache_.erase(key_id);
  return dropped;
}

bool ApiKeyStore::Revoke(const std::string& key_id) {
  bool revoked = Run(database_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    pqxx::result r = tx.exec_params(
        "UPDATE api_clients SET status = 'revoked', revoked_at = now(), updated_at = now() "
        "WHERE key_id = $1 AND status = 'active' RETURNING 1",
        key_id);
    if (r.empty()) {
      if (tx.exec_params("SELECT 1 FROM api_clients WHERE key_id = $1", key_id).empty()) {
        NoSuchKey(key_id);
      }
      return false;
    }
    tx.commit();
    return true;
  });
  cache_.erase(key_id);
  return revoked;
}

ActiveKey ApiKeyStore::FromCache(const CacheEntry& entry, const std::string& key_id) const {
  if (entry.key) return *entry.key;
  if (entry.error == ErrorCode::kRevokedKey) {
    throw Error(ErrorCode::kRevokedKey, "this access key has been revoked", "key " + key_id);
  }
  throw Error(ErrorCode::kUnknownKey, "unknown access key", "key " + key_id);
}

ActiveKey ApiKeyStore::Lookup(const std::string& key_id) {
  auto now = clock_();
  if (auto it = cache_.find(key_id); it != cache_.end() && now - it->second.fetched < cache_ttl_) {
    CountCacheLookup(CacheKind::kApiKey, true);
    return FromCache(it->second, key_id);
  }
  CountCacheLookup(CacheKind::kApiKey, false);
  CacheEntry entry;
  entry.fetched = now;
  try {
    FetchKey(key_id, entry);
  } catch (const Error& e) {
    auto it = cache_.find(key_id);
    if (e.code() != ErrorCode::kServiceUnavailable || it == cache_.end() ||
        now - it->second.fetched >= grace_) {
      throw;
    }
    // PostgreSQL is away: keep the last answer for the grace period.
    return FromCache(it->second, key_id);
  }
  // Unknown ids are cached too (a client retrying with a wrong id costs no query), so the
  // map is bounded against a flood of made-up ids.
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  auto& slot = cache_[key_id];
  slot = std::move(entry);
  return FromCache(slot, key_id);
}

void ApiKeyStore::FetchKey(const std::string& key_id, CacheEntry& entry) {
  Run(database_, [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    pqxx::result r = tx.exec_params(
        "SELECT status, encode(secret_sealed, 'hex'), encode(previous_secret_sealed, 'hex'), "
        "array_to_string(scopes, ','), rate_per_minute, daily_quota, name "
        "FROM api_clients WHERE key_id = $1",
        key_id);
    if (r.empty()) {
      entry.error = ErrorCode::kUnknownKey;
    } else if (r[0][0].as<std::string>() != "active") {
      entry.error = ErrorCode::kRevokedKey;
    } else {
      ActiveKey key;
      key.key_id = key_id;
      key.secrets.push_back(OpenHex(master_key_, r[0][1].as<std::string>(), key_id));
      if (!r[0][2].is_null()) {
        key.secrets.push_back(OpenHex(master_key_, r[0][2].as<std::string>(), key_id));
      }
      key.scopes = SplitScopes(r[0][3].as<std::string>());
      key.rate_per_minute = r[0][4].as<int64_t>();
      key.daily_quota = r[0][5].as<int64_t>();
      key.name = r[0][6].as<std::string>();
      entry.key = std::move(key);
    }
    return 0;
  });
}

bool ApiKeyStore::NoteUsed(const std::string& key_id) {
  auto now = clock_();
  if (auto it = last_noted_.find(key_id);
      it != last_noted_.end() && now - it->second < kNoteUsedEvery) {
    return true;
  }
  try {
    Run(database_, [&](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params("UPDATE api_clients SET last_used_at = now() WHERE key_id = $1", key_id);
      return 0;
    });
  } catch (const Error&) {
    return false;
  }
  if (last_noted_.size() >= kMaxCacheEntries) last_noted_.clear();
  last_noted_[key_id] = now;
  return true;
}

void ApiKeyStore::ClearCache() { cache_.clear(); }

}  // namespace scanline
