// The cryptographic primitives scanline needs, over OpenSSL 3: SHA-256, HMAC-SHA256 (RFC 2104),
// constant-time comparison, random bytes, and AES-256-GCM sealing of secrets at rest.
//
// Byte strings are std::string (raw bytes, not text). Sealed blobs carry a version byte so the
// format can change without a flag day:
//   version (1 byte, = 1) | nonce (12 bytes, random) | ciphertext | tag (16 bytes)
// A fresh random 96-bit nonce per seal is safe for far more seals than a key store will ever
// make (NIST SP 800-38D bounds random nonces at 2^32 messages per key).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace scanline {

inline constexpr size_t kSha256Bytes = 32;
inline constexpr size_t kMasterKeyBytes = 32;  // AES-256

// SHA-256 (FIPS 180-4) of `data`: 32 raw bytes.
std::string Sha256(std::string_view data);

// SHA-256 of data that arrives in pieces (a request body as it is read): the digest of the
// pieces in order, equal to Sha256 of their concatenation. Update any number of times, then
// Finish once. Throws Error(kInternal) if OpenSSL fails.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(std::string_view data);
  // 32 raw bytes. Nothing may be added after.
  std::string Finish();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

// HMAC-SHA256 (RFC 2104) of `data` under `key`: 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// Lower-case hexadecimal of `bytes` (two characters per byte).
std::string LowerHex(std::string_view bytes);

// Decodes hexadecimal (either case). Returns false, leaving `out` unspecified, on an odd
// length or a non-hex character.
bool DecodeHex(std::string_view hex, std::string& out);

// True when `a` and `b` are equal. Runs in time that depends only on the lengths, not on the
// contents (CRYPTO_memcmp), so a caller comparing a secret-derived value leaks nothing but
// the length, which is public here (signatures are 64 hex characters).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// `count` bytes from OpenSSL's CSPRNG (RAND_bytes). Throws Error(kInternal) if it fails.
std::string RandomBytes(size_t count);

// An AES-256 key that wipes itself (OPENSSL_cleanse) when destroyed. Movable, not copyable.
class MasterKey {
 public:
  // Throws Error(kInternal) unless `raw` is exactly 32 bytes.
  explicit MasterKey(std::string raw);
  ~MasterKey();
  MasterKey(MasterKey&& other) noexcept;
  MasterKey& operator=(MasterKey&& other) noexcept;
  MasterKey(const MasterKey&) = delete;
  MasterKey& operator=(const MasterKey&) = delete;

  std::string_view bytes() const { return raw_; }

 private:
  std::string raw_;
};

// Reads a master key file: exactly 32 raw bytes, or 64 hex characters (surrounding
// whitespace such as a trailing newline ignored). Throws Error(kInternal) naming the path
// (never the content) when the file is unreadable or has another shape.
MasterKey LoadMasterKey(const std::string& path);

// Writes a new random key to `path` as 64 hex characters and a newline, with mode 0600.
// Refuses (Error kInternal) to overwrite an existing file. For development setups; production
// keys come from the operator through systemd's LoadCredential=.
void WriteNewMasterKey(const std::string& path);

// AES-256-GCM encryption of `plaintext` with a random nonce. `associated` is authenticated
// but not stored (e.g. the key id a secret belongs to, so a sealed secret cannot be moved to
// another row). Returns the versioned blob described above.
std::string Seal(const MasterKey& key, std::string_view plaintext, std::string_view associated);

// Reverses Seal. Throws Error(kInternal) when the blob is malformed, of an unknown version,
// or fails authentication (wrong key, wrong associated data, any flipped bit).
std::string Open(const MasterKey& key, std::string_view sealed, std::string_view associated);

}  // namespace scanline
