// API keys: the clients allowed to call scanline, their SigV4 secrets, scopes and limits,
// stored in PostgreSQL (api_clients, core/sql/0001_api_clients.sql).
//
// Secrets are generated here (never chosen by people), shown once at creation or rotation,
// and stored sealed with AES-256-GCM under the master key (core/crypto.h), the key id as
// associated data so a sealed secret cannot be moved to another row.
//
// Rotation keeps two secrets active: `Rotate` makes a new current secret and keeps the one it
// replaces as the previous secret, so clients can switch over at their pace. The previous
// secret stays active until the next `Rotate` (which drops it and demotes the current one) or
// `DropPreviousSecret`. Revocation is final.
//
// Workers look keys up on every signed request through `Lookup`, which caches each answer
// (found, unknown or revoked) for `cache_ms` (config auth.key_cache_ms, default 2000): a key
// revoked on any host stops working on every worker within that time. While PostgreSQL cannot
// be reached, an answer up to `grace_ms` old (config auth.key_grace_s, default 600 s) is
// served instead of failing: nothing can be revoked while PostgreSQL is down, so the API stays
// up for the clients it knew, and their requests are logged through the spool as ever.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/crypto.h"
#include "core/error.h"

namespace scanline {

class Database;
struct AuthConfig;

// The scopes a key can hold; a route names the one it needs.
inline constexpr std::string_view kKnownScopes[] = {"ocr", "lpr", "forms", "templates:admin",
                                                    "status"};

// What an operator sets when creating a key.
struct ApiClientSpec {
  std::string name;                 // who it is for, free text, not empty
  std::vector<std::string> scopes;  // each one of kKnownScopes
  int64_t rate_per_minute = 0;      // requests per minute; 0 = no limit
  int64_t daily_quota = 0;          // requests per UTC day; 0 = no limit
};

// A key as listed (never with its secrets).
struct ApiClient {
  std::string key_id;
  std::string name;
  std::vector<std::string> scopes;
  int64_t rate_per_minute = 0;
  int64_t daily_quota = 0;
  bool revoked = false;
  bool has_previous_secret = false;  // a rotation is in progress
  int64_t created_at = 0;            // unix seconds
  int64_t updated_at = 0;
  int64_t rotated_at = 0;    // 0 = never
  int64_t revoked_at = 0;    // 0 = not revoked
  int64_t last_used_at = 0;  // 0 = never
};

// A key id and its secret in clear, returned once by Create and Rotate.
struct IssuedKey {
  std::string key_id;  // "SLK" + 17 upper-case letters and digits
  std::string secret;  // 40 characters of base64url (240 random bits)
};

// What the signature check needs about an active key.
struct ActiveKey {
  std::string key_id;
  std::string name;
  std::vector<std::string> secrets;  // current first, then the previous one during a rotation
  std::vector<std::string> scopes;
  int64_t rate_per_minute = 0;
  int64_t daily_quota = 0;

  bool HasScope(std::string_view scope) const;
};

// The master key file: auth.master_key_file, else $CREDENTIALS_DIRECTORY/master.key (systemd
// LoadCredential=). Throws Error(kInternal) when neither is set.
std::string MasterKeyPath(const AuthConfig& auth);

// Throws InvalidOption("scopes", ...) unless every scope is known and none repeats.
void ValidateScopes(const std::vector<std::string>& scopes);

// "ocr,lpr" -> {"ocr", "lpr"} (empty items dropped, spaces trimmed).
std::vector<std::string> SplitScopes(std::string_view text);

class ApiKeyStore {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Neither `database` nor `master_key` is owned; both must outlive the store. cache_ms
  // bounds how long Lookup trusts an answer while PostgreSQL answers, grace_ms (>= cache_ms
  // to have any effect) how long while it does not. `clock` is injectable for tests.
  ApiKeyStore(Database& database, const MasterKey& master_key, int cache_ms, int grace_ms,
              Clock clock = std::chrono::steady_clock::now);
  ~ApiKeyStore();
  ApiKeyStore(const ApiKeyStore&) = delete;
  ApiKeyStore& operator=(const ApiKeyStore&) = delete;

  // Creates a key. Throws InvalidOption for a bad spec, kServiceUnavailable when PostgreSQL
  // is down.
  IssuedKey Create(const ApiClientSpec& spec);

  // Every key, oldest first.
  std::vector<ApiClient> List();
  // One key, or nullopt.
  std::optional<ApiClient> Get(const std::string& key_id);

  // Issues a new current secret; the current one becomes the previous (still accepted), an
  // older previous one is dropped. Throws kNotFound for an unknown key, kConflict for a
  // revoked one.
  IssuedKey Rotate(const std::string& key_id);
  // Stops accepting the previous secret. Returns false when there was none. Throws kNotFound.
  bool DropPreviousSecret(const std::string& key_id);
  // Revokes the key for good. Returns false when it was revoked already. Throws kNotFound.
  bool Revoke(const std::string& key_id);

  // For the signature check: the key's active secrets, scopes and limits. Throws
  // Error(kUnknownKey), Error(kRevokedKey), or Error(kServiceUnavailable) when PostgreSQL is
  // down and no answer younger than grace_ms is cached. Use with VerifySignature:
  //   ActiveKey key;
  //   VerifySignature(request, now, params,
  //                   [&](const std::string& id) { key = store.Lookup(id); return key.secrets; });
  ActiveKey Lookup(const std::string& key_id);

  // Records that `key_id` signed a request (last_used_at), at most once a minute per key and
  // process, so the hot path rarely writes. Returns false when PostgreSQL could not be
  // written (the caller decides whether to log); never throws for that.
  [[nodiscard]] bool NoteUsed(const std::string& key_id);

  // Forgets every cached lookup (tests; also after this process changed a key).
  void ClearCache();

 private:
  struct CacheEntry {
    std::chrono::steady_clock::time_point fetched;
    std::optional<ActiveKey> key;  // nullopt: `error` applies
    ErrorCode error = ErrorCode::kUnknownKey;
  };

  ActiveKey FromCache(const CacheEntry& entry, const std::string& key_id) const;
  // Reads `key_id` from PostgreSQL into `entry`. Throws like Lookup.
  void FetchKey(const std::string& key_id, CacheEntry& entry);

  Database& database_;
  const MasterKey& master_key_;
  std::chrono::milliseconds cache_ttl_;
  std::chrono::milliseconds grace_;
  Clock clock_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> last_noted_;
};

}  // namespace scanline
