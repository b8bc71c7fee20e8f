// Tests for core/crypto: published known-answer vectors for SHA-256 (FIPS 180-2 examples) and
// HMAC-SHA256 (RFC 4231), and the behaviour of AES-256-GCM sealing and master key files.
#include "core/crypto.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "core/error.h"
#include "tests/error_code.h"

namespace scanline {
namespace {

class TempDirectory {
 public:
  TempDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "crypto_test.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDirectory() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

TEST(CryptoTest, Sha256MatchesFips180Examples) {
  EXPECT_EQ(LowerHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(LowerHex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(LowerHex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256("abc").size(), kSha256Bytes);
}

TEST(CryptoTest, Sha256StreamEqualsTheDigestOfTheWhole) {
  // FIPS 180-4 example: a million 'a', here in pieces of uneven sizes.
  Sha256Stream million;
  const std::string piece(997, 'a');
  size_t fed = 0;
  for (; fed + piece.size() <= 1000000; fed += piece.size()) million.Update(piece);
  million.Update(std::string(1000000 - fed, 'a'));
  EXPECT_EQ(LowerHex(million.Finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  Sha256Stream none;
  EXPECT_EQ(none.Finish(), Sha256(""));
  Sha256Stream split;
  split.Update("ab");
  split.Update("");
  split.Update("c");
  EXPECT_EQ(split.Finish(), Sha256("abc"));
}

TEST(CryptoTest, HmacSha256MatchesRfc4231) {
  // Test case 1.
  EXPECT_EQ(LowerHex(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block.
  EXPECT_EQ(LowerHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(LowerHex(HmacSha256(std::string(131, '\xaa'),
                                "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(CryptoTest, HmacWithEmptyKeyIsDefined) {
  // HMAC pads an empty key with zeros; OpenSSL must not refuse it.
  EXPECT_EQ(LowerHex(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(CryptoTest, HexRoundTripsAndRejectsBadInput) {
  std::string bytes("\x00\x01\x7f\x80\xff", 5);
  EXPECT_EQ(LowerHex(bytes), "00017f80ff");
  std::string back;
  ASSERT_TRUE(DecodeHex("00017F80ff", back));
  EXPECT_EQ(back, bytes);
  EXPECT_FALSE(DecodeHex("abc", back));
  EXPECT_FALSE(DecodeHex("zz", back));
}

TEST(CryptoTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abcdef", "abcdef"));
  EXPECT_FALSE(ConstantTimeEquals("abcdef", "abcdeg"));
  EXPECT_FALSE(ConstantTimeEquals("abcdef", "abcde"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(CryptoTest, RandomBytesHaveTheLengthAskedAndDiffer) {
  std::string a = RandomBytes(32);
  std::string b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(RandomBytes(0).empty());
}

TEST(CryptoTest, SealThenOpenReturnsThePlaintext) {
  MasterKey key(RandomBytes(kMasterKeyBytes));
  std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  std::string sealed = Seal(key, secret, "SLKEXAMPLE");
  EXPECT_EQ(sealed.size(), 1 + 12 + secret.size() + 16);
  EXPECT_EQ(sealed[0], '\x01');
  EXPECT_EQ(sealed.find(secret), std::string::npos);
  EXPECT_EQ(Open(key, sealed, "SLKEXAMPLE"), secret);
  EXPECT_EQ(Open(key, Seal(key, "", ""), ""), "");
}

TEST(CryptoTest, SealUsesAFreshNonceEachTime) {
  MasterKey key(RandomBytes(kMasterKeyBytes));
  EXPECT_NE(Seal(key, "same", "id"), Seal(key, "same", "id"));
}

TEST(CryptoTest, OpenRefusesAnyFlippedBit) {
  MasterKey key(RandomBytes(kMasterKeyBytes));
  std::string sealed = Seal(key, "a secret of some length", "id");
  // Every byte after the version: nonce, ciphertext and tag.
  for (size_t i = 1; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_EQ(CodeOf([&] { (void)Open(key, tampered, "id"); }), ErrorCode::kInternal) << i;
  }
}

TEST(CryptoTest, OpenRefusesWrongKeyWrongContextVersionAndShortBlobs) {
  MasterKey key(RandomBytes(kMasterKeyBytes));
  MasterKey other(RandomBytes(kMasterKeyBytes));
  std::string sealed = Seal(key, "secret", "SLKA");
  EXPECT_THROW((void)Open(other, sealed, "SLKA"), Error);
  EXPECT_THROW((void)Open(key, sealed, "SLKB"), Error);
  std::string versioned = sealed;
  versioned[0] = '\x02';
  EXPECT_THROW((void)Open(key, versioned, "SLKA"), Error);
  EXPECT_THROW((void)Open(key, sealed.substr(0, 28), "SLKA"), Error);
  EXPECT_THROW((void)Open(key, "", "SLKA"), Error);
}

TEST(CryptoTest, MasterKeyMustBe32Bytes) {
  EXPECT_EQ(CodeOf([] { MasterKey k(std::string(31, 'x')); }), ErrorCode::kInternal);
  EXPECT_EQ(CodeOf([] { MasterKey k(std::string(33, 'x')); }), ErrorCode::kInternal);
}

TEST(CryptoTest, LoadsRawAndHexMasterKeyFiles) {
  TempDirectory dir;
  std::string raw = RandomBytes(kMasterKeyBytes);
  WriteFile(dir.File("raw.key"), raw);
  WriteFile(dir.File("hex.key"), LowerHex(raw) + "\n");
  MasterKey from_raw = LoadMasterKey(dir.File("raw.key"));
  MasterKey from_hex = LoadMasterKey(dir.File("hex.key"));
  EXPECT_EQ(from_raw.bytes(), raw);
  EXPECT_EQ(from_hex.bytes(), raw);
  // Either loads what the other sealed.
  EXPECT_EQ(Open(from_hex, Seal(from_raw, "x", "k"), "k"), "x");
}

TEST(CryptoTest, RefusesMasterKeyFilesOfOtherShapes) {
  TempDirectory dir;
  WriteFile(dir.File("short.key"), std::string(16, 'a'));
  WriteFile(dir.File("badhex.key"), std::string(63, 'a') + "g");
  EXPECT_THROW((void)LoadMasterKey(dir.File("short.key")), Error);
  EXPECT_THROW((void)LoadMasterKey(dir.File("badhex.key")), Error);
  EXPECT_THROW((void)LoadMasterKey(dir.File("absent.key")), Error);
  try {
    (void)LoadMasterKey(dir.File("badhex.key"));
  } catch (const Error& e) {
    EXPECT_NE(e.internal().find("badhex.key"), std::string::npos);
    EXPECT_EQ(e.internal().find("aaaa"), std::string::npos) << "key material in a message";
  }
}

TEST(CryptoTest, WritesANewPrivateMasterKeyAndNeverOverwrites) {
  TempDirectory dir;
  std::string path = dir.File("master.key");
  WriteNewMasterKey(path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  MasterKey first = LoadMasterKey(path);
  EXPECT_THROW(WriteNewMasterKey(path), Error);
  EXPECT_EQ(LoadMasterKey(path).bytes(), first.bytes());
  std::string second_path = dir.File("second.key");
  WriteNewMasterKey(second_path);
  EXPECT_NE(LoadMasterKey(second_path).bytes(), first.bytes());
}

TEST(CryptoTest, MovedMasterKeyKeepsTheBytes) {
  std::string raw = RandomBytes(kMasterKeyBytes);
  MasterKey a(raw);
  MasterKey b(std::move(a));
  EXPECT_EQ(b.bytes(), raw);
  MasterKey c(RandomBytes(kMasterKeyBytes));
  c = std::move(b);
  EXPECT_EQ(c.bytes(), raw);
}

}  // namespace
}  // namespace scanline
