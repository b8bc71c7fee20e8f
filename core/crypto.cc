// OpenSSL 3 behind core/crypto.h. Algorithms are fetched once per process (EVP_MD_fetch,
// EVP_MAC_fetch): an implicit fetch on every call costs a provider lookup, which shows in the
// per-request signature check. Contexts are owned by unique_ptr with the OpenSSL free
// function as deleter.
#include "core/crypto.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <utility>

#include "core/error.h"

namespace scanline {
namespace {

constexpr unsigned char kSealVersion = 1;
constexpr size_t kNonceBytes = 12;  // 96 bits, the GCM nonce size NIST recommends
constexpr size_t kTagBytes = 16;

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// The last OpenSSL error as text, for the internal log message.
std::string OpenSslError(const char* what) {
  unsigned long code = ERR_get_error();
  char buffer[256] = "no OpenSSL error queued";
  if (code != 0) ERR_error_string_n(code, buffer, sizeof buffer);
  ERR_clear_error();
  return std::string(what) + ": " + buffer;
}

[[noreturn]] void Fail(const char* what) {
  throw Error(ErrorCode::kInternal, "internal error", OpenSslError(what));
}

const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) Fail("EVP_MD_fetch(SHA256)");
  return md;
}

EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) Fail("EVP_MAC_fetch(HMAC)");
  return mac;
}

const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) Fail("EVP_CIPHER_fetch(AES-256-GCM)");
  return cipher;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string Sha256(std::string_view data) {
  std::string digest(kSha256Bytes, '\0');
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), Bytes(digest), &length, Sha256Md(), nullptr) != 1 ||
      length != kSha256Bytes) {
    Fail("EVP_Digest(SHA256)");
  }
  return digest;
}

void Sha256Stream::Free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), Sha256Md(), nullptr) != 1) {
    Fail("EVP_DigestInit_ex(SHA256)");
  }
}

Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) Fail("EVP_DigestUpdate");
}

std::string Sha256Stream::Finish() {
  std::string digest(kSha256Bytes, '\0');
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), Bytes(digest), &length) != 1 || length != kSha256Bytes) {
    Fail("EVP_DigestFinal_ex(SHA256)");
  }
  return digest;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  MacCtx ctx(EVP_MAC_CTX_new(HmacAlgorithm()));
  if (!ctx) Fail("EVP_MAC_CTX_new");
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  // EVP_MAC_init refuses a null key pointer even with length 0; an empty key is legal HMAC.
  static const unsigned char kEmpty = 0;
  const unsigned char* key_bytes = key.empty() ? &kEmpty : Bytes(key);
  if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), Bytes(data), data.size()) != 1) {
    Fail("HMAC-SHA256");
  }
  std::string out(kSha256Bytes, '\0');
  size_t length = 0;
  if (EVP_MAC_final(ctx.get(), Bytes(out), &length, out.size()) != 1 || length != kSha256Bytes) {
    Fail("EVP_MAC_final");
  }
  return out;
}

std::string LowerHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    hex[2 * i] = kDigits[b >> 4];
    hex[2 * i + 1] = kDigits[b & 15];
  }
  return hex;
}

bool DecodeHex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.assign(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return true;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomBytes(size_t count) {
  std::string out(count, '\0');
  if (count > 0 && RAND_bytes(Bytes(out), static_cast<int>(count)) != 1) Fail("RAND_bytes");
  return out;
}

MasterKey::MasterKey(std::string raw) : raw_(std::move(raw)) {
  if (raw_.size() != kMasterKeyBytes) {
    OPENSSL_cleanse(raw_.data(), raw_.size());
    throw Error(ErrorCode::kInternal, "internal error",
                "master key must be 32 bytes, got " + std::to_string(raw_.size()));
  }
}

MasterKey::~MasterKey() { OPENSSL_cleanse(raw_.data(), raw_.size()); }

MasterKey::MasterKey(MasterKey&& other) noexcept : raw_(std::move(other.raw_)) {
  other.raw_.clear();
}

MasterKey& MasterKey::operator=(MasterKey&& other) noexcept {
  if (this != &other) {
    OPENSSL_cleanse(raw_.data(), raw_.size());
    raw_ = std::move(other.raw_);
    other.raw_.clear();
  }
  return *this;
}

MasterKey LoadMasterKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorCode::kInternal, "internal error",
                "cannot read master key file " + path + ": " + std::strerror(errno));
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string raw;
  if (content.size() == kMasterKeyBytes) {
    raw = content;
  } else if (std::string_view hex = Trim(content);
             hex.size() == 2 * kMasterKeyBytes && DecodeHex(hex, raw)) {
    // 64 hex characters.
  } else {
    OPENSSL_cleanse(content.data(), content.size());
    OPENSSL_cleanse(raw.data(), raw.size());
    throw Error(ErrorCode::kInternal, "internal error",
                "master key file " + path + " must hold 32 raw bytes or 64 hex characters");
  }
  OPENSSL_cleanse(content.data(), content.size());
  return MasterKey(std::move(raw));
}

void WriteNewMasterKey(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw Error(ErrorCode::kInternal, "internal error",
                "cannot create master key file " + path + ": " + std::strerror(errno));
  }
  std::string raw = RandomBytes(kMasterKeyBytes);
  std::string text = LowerHex(raw) + "\n";
  OPENSSL_cleanse(raw.data(), raw.size());
  size_t done = 0;
  int error = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  ::close(fd);
  OPENSSL_cleanse(text.data(), text.size());
  if (error != 0) {
    ::unlink(path.c_str());
    throw Error(ErrorCode::kInternal, "internal error",
                "cannot write master key file " + path + ": " + std::strerror(error));
  }
}

std::string Seal(const MasterKey& key, std::string_view plaintext, std::string_view associated) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) Fail("EVP_CIPHER_CTX_new");
  std::string nonce = RandomBytes(kNonceBytes);
  std::string out;
  out.reserve(1 + kNonceBytes + plaintext.size() + kTagBytes);
  out.push_back(static_cast<char>(kSealVersion));
  out += nonce;
  size_t header = out.size();
  out.resize(header + plaintext.size() + kTagBytes);
  unsigned char* cipher = Bytes(out) + header;
  int length = 0;
  if (EVP_EncryptInit_ex2(ctx.get(), Aes256Gcm(), Bytes(key.bytes()), Bytes(nonce), nullptr) != 1 ||
      (!associated.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &length, Bytes(associated),
                                                static_cast<int>(associated.size())) != 1)) {
    Fail("AES-256-GCM seal init");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), cipher, &length, Bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1) {
      Fail("AES-256-GCM seal");
    }
    written = length;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), cipher + written, &length) != 1) Fail("AES-256-GCM final");
  written += length;
  if (static_cast<size_t>(written) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, cipher + written) != 1) {
    Fail("AES-256-GCM tag");
  }
  return out;
}

std::string Open(const MasterKey& key, std::string_view sealed, std::string_view associated) {
  if (sealed.size() < 1 + kNonceBytes + kTagBytes) {
    throw Error(ErrorCode::kInternal, "internal error", "sealed blob too short");
  }
  if (static_cast<unsigned char>(sealed[0]) != kSealVersion) {
    throw Error(
        ErrorCode::kInternal, "internal error",
        "sealed blob has unknown version " + std::to_string(static_cast<unsigned char>(sealed[0])));
  }
  std::string_view nonce = sealed.substr(1, kNonceBytes);
  std::string_view cipher =
      sealed.substr(1 + kNonceBytes, sealed.size() - 1 - kNonceBytes - kTagBytes);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) Fail("EVP_CIPHER_CTX_new");
  int length = 0;
  if (EVP_DecryptInit_ex2(ctx.get(), Aes256Gcm(), Bytes(key.bytes()), Bytes(nonce), nullptr) != 1 ||
      (!associated.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &length, Bytes(associated),
                                                static_cast<int>(associated.size())) != 1)) {
    Fail("AES-256-GCM open init");
  }
  std::string plain(cipher.size(), '\0');
  int written = 0;
  if (!cipher.empty()) {
    if (EVP_DecryptUpdate(ctx.get(), Bytes(plain), &length, Bytes(cipher),
                          static_cast<int>(cipher.size())) != 1) {
      Fail("AES-256-GCM open");
    }
    written = length;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
    Fail("AES-256-GCM set tag");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(plain) + written, &length) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    ERR_clear_error();
    throw Error(ErrorCode::kInternal, "internal error",
                "sealed blob failed authentication (wrong master key or tampered data)");
  }
  return plain;
}

}  // namespace scanline
