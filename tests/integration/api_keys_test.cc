// API keys (core/api_keys) and replay protection (core/replay) against a real PostgreSQL and
// Redis started by the testbed: sealed secrets, rotation, revocation reaching every worker
// within the cache time, and signatures accepted once with Redis, without it, and without
// either.
#include "core/api_keys.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <regex>
#include <thread>

#include "core/crypto.h"
#include "core/database.h"
#include "core/error.h"
#include "core/migrations.h"
#include "core/redis.h"
#include "core/replay.h"
#include "core/sigv4.h"
#include "tests/error_code.h"
#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now =
      std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ApiKeyStore::Clock Function() {
    return [this] { return now; };
  }
};

// One PostgreSQL (migrated) and one Redis for the whole file: starting them is the slow part.
class AuthStoresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // hiredis writes to a socket whose server was stopped; as in the pool, that must be an
    // error return, not a SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    dir_ = new TempDir();
    postgres_ = new Postgres(dir_->path());
    redis_ = new Redis(dir_->path());
    Database database(postgres_->conninfo(), 3);
    ApplyMigrations(database, ReadMigrations(SCANLINE_SOURCE_DIR "/core/sql"));
  }
  static void TearDownTestSuite() {
    delete redis_;
    delete postgres_;
    delete dir_;
  }

  void SetUp() override {
    postgres_->Query("DELETE FROM api_clients; DELETE FROM request_signatures;");
    database_ = std::make_unique<Database>(postgres_->conninfo(), 3);
    redis_client_ = std::make_unique<RedisClient>(redis_->address(), 300, "test:");
  }

  static TempDir* dir_;
  static Postgres* postgres_;
  static Redis* redis_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<RedisClient> redis_client_;
  MasterKey master_key_{RandomBytes(kMasterKeyBytes)};
};

TempDir* AuthStoresTest::dir_ = nullptr;
Postgres* AuthStoresTest::postgres_ = nullptr;
Redis* AuthStoresTest::redis_ = nullptr;

ApiClientSpec Spec(std::vector<std::string> scopes = {"ocr", "lpr"}) {
  return ApiClientSpec{"test client", std::move(scopes), 60, 1000};
}

// A request signed with `secret`, verified through the store's lookup.
VerifiedSignature SignAndVerify(ApiKeyStore& store, const std::string& key_id,
                                const std::string& secret) {
  Request request;
  request.method = "POST";
  request.path = "/v1/ocr";
  request.headers = {{"host", "localhost"}};
  request.body = "image";
  SigV4Params params;
  int64_t now = 1'700'000'000;
  SignRequest(request, key_id, secret, now, params);
  return VerifySignature(request, now, params,
                         [&](const std::string& id) { return store.Lookup(id).secrets; });
}

TEST_F(AuthStoresTest, CreatesAKeyWhoseSecretIsStoredSealed) {
  ApiKeyStore store(*database_, master_key_, 2000, 0);
  IssuedKey issued = store.Create(Spec());
  EXPECT_TRUE(std::regex_match(issued.key_id, std::regex("SLK[A-Z0-9]{17}"))) << issued.key_id;
  EXPECT_TRUE(std::regex_match(issued.secret, std::regex("[A-Za-z0-9_-]{40}"))) << issued.secret;
  EXPECT_NE(store.Create(Spec()).key_id, issued.key_id);

  ActiveKey key = store.Lookup(issued.key_id);
  EXPECT_EQ(key.secrets, std::vector<std::string>{issued.secret});
  EXPECT_EQ(key.scopes, (std::vector<std::string>{"ocr", "lpr"}));
  EXPECT_TRUE(key.HasScope("lpr"));
  EXPECT_FALSE(key.HasScope("forms"));
  EXPECT_EQ(key.rate_per_minute, 60);
  EXPECT_EQ(key.daily_quota, 1000);

  // Nothing of the secret is in the table in clear.
  std::string stored = postgres_->Query(
      "SELECT encode(secret_sealed, 'escape') FROM api_clients "
      "WHERE key_id = '" +
      issued.key_id + "'");
  EXPECT_FALSE(stored.empty());
  EXPECT_EQ(stored.find(issued.secret), std::string::npos);
  EXPECT_EQ(stored.find(issued.secret.substr(0, 8)), std::string::npos);

  EXPECT_EQ(SignAndVerify(store, issued.key_id, issued.secret).key_id, issued.key_id);
}

TEST_F(AuthStoresTest, AnotherMasterKeyCannotOpenTheSecrets) {
  ApiKeyStore store(*database_, master_key_, 2000, 0);
  IssuedKey issued = store.Create(Spec());
  MasterKey other(RandomBytes(kMasterKeyBytes));
  ApiKeyStore wrong(*database_, other, 2000, 0);
  EXPECT_EQ(CodeOf([&] { wrong.Lookup(issued.key_id); }), ErrorCode::kInternal);
}

TEST_F(AuthStoresTest, RefusesBadSpecs) {
  ApiKeyStore store(*database_, master_key_, 2000, 0);
  EXPECT_EQ(CodeOf([&] { store.Create(Spec({})); }), ErrorCode::kInvalidOption);
  EXPECT_EQ(CodeOf([&] { store.Create(Spec({"ocr", "admin"})); }), ErrorCode::kInvalidOption);
  EXPECT_EQ(CodeOf([&] { store.Create(Spec({"ocr", "ocr"})); }), ErrorCode::kInvalidOption);
  ApiClientSpec no_name = Spec();
  no_name.name = "";
  EXPECT_EQ(CodeOf([&] { store.Create(no_name); }), ErrorCode::kInvalidOption);
  ApiClientSpec negative = Spec();
  negative.rate_per_minute = -1;
  EXPECT_EQ(CodeOf([&] { store.Create(negative); }), ErrorCode::kInvalidOption);
  EXPECT_EQ(store.List().size(), 0u);
  EXPECT_EQ(SplitScopes(" ocr, ,templates:admin "),
            (std::vector<std::string>{"ocr", "templates:admin"}));
}

TEST_F(AuthStoresTest, ListsAndGetsKeysWithoutSecrets) {
  ApiKeyStore store(*database_, master_key_, 2000, 0);
  IssuedKey a = store.Create(Spec({"status"}));
  IssuedKey b = store.Create(Spec({"forms", "templates:admin"}));
  std::vector<ApiClient> clients = store.List();
  ASSERT_EQ(clients.size(), 2u);
  EXPECT_EQ(clients[0].key_id, a.key_id);
  EXPECT_EQ(clients[1].key_id, b.key_id);
  EXPECT_EQ(clients[1].scopes, (std::vector<std::string>{"forms", "templates:admin"}));
  EXPECT_EQ(clients[0].name, "test client");
  EXPECT_FALSE(clients[0].revoked);
  EXPECT_FALSE(clients[0].has_previous_secret);
  int64_t now = std::time(nullptr);
  EXPECT_NEAR(clients[0].created_at, now, 60);
  EXPECT_EQ(clients[0].last_used_at, 0);
  EXPECT_FALSE(store.Get("SLKNOSUCHKEY00000000").has_value());
  EXPECT_EQ(store.Get(b.key_id)->daily_quota, 1000);
}

TEST_F(AuthStoresTest, RotationKeepsThePreviousSecretUntilTheNextRotationOrADrop) {
  ApiKeyStore store(*database_, master_key_, 2000, 0);
  IssuedKey first = store.Create(Spec());
  IssuedKey second = store.Rotate(first.key_id);
  EXPECT_EQ(second.key_id, first.key_id);
  EXPECT_NE(second.secret, first.secret);
  EXPECT_EQ(store.Lookup(first.key_id).secrets,
            (std::vector<std::string>{second.secret, first.secret}));
  EXPECT_EQ(SignAndVerify(store, first.key_id, second.secret).secret_index, 0);
  EXPECT_EQ(SignAndVerify(store, first.key_id, first.secret).secret_index, 1);
  EXPECT_TRUE(store.Get(first.key_id)->has_previous_secret);
  EXPECT_GT(store.Get(first.key_id)->rotated_at, 0);

  IssuedKey third = store.Rotate(first.key_id);
  EXPECT_EQ(store.Lookup(first.key_id).secrets,
            (std::vector<std::string>{third.secret, second.secret}));
  EXPECT_EQ(CodeOf([&] { SignAndVerify(store, first.key_id, first.secret); }),
            ErrorCode::kSignatureMismatch);

  EXPECT_TRUE(store.DropPreviousSecret(first.key_id));
  EXPECT_FALSE(store.DropPreviousSecret(first.key_id));
  EXPECT_EQ(store.Lookup(first.key_id).secrets, std::vector<std::string>{third.secret});
  EXPECT_EQ(CodeOf([&] { store.Rotate("SLKNOSUCHKEY00000000"); }), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { store.DropPreviousSecret("SLKNOSUCHKEY00000000"); }),
            ErrorCode::kNotFound);
}

TEST_F(AuthStoresTest, ARevokedKeyStopsOnEveryWorkerWithinTheCacheTime) {
  FakeClock clock;
  ApiKeyStore admin(*database_, master_key_, 2000, 0);
  IssuedKey issued = admin.Create(Spec());
  // A worker with its own connection and cache.
  Database worker_db(postgres_->conninfo(), 3);
  ApiKeyStore worker(worker_db, master_key_, 2000, 0, clock.Function());
  EXPECT_NO_THROW(worker.Lookup(issued.key_id));

  EXPECT_TRUE(admin.Revoke(issued.key_id));
  EXPECT_FALSE(admin.Revoke(issued.key_id));
  EXPECT_TRUE(admin.Get(issued.key_id)->revoked);
  // The worker still trusts its answer for at most cache_ms...
  clock.now += std::chrono::milliseconds(1999);
  EXPECT_NO_THROW(worker.Lookup(issued.key_id));
  // ...and no longer.
  clock.now += std::chrono::milliseconds(1);
  EXPECT_EQ(CodeOf([&] { worker.Lookup(issued.key_id); }), ErrorCode::kRevokedKey);
  EXPECT_EQ(CodeOf([&] { admin.Rotate(issued.key_id); }), ErrorCode::kConflict);
  EXPECT_EQ(CodeOf([&] { SignAndVerify(worker, issued.key_id, issued.secret); }),
            ErrorCode::kRevokedKey);
  EXPECT_EQ(CodeOf([&] { admin.Revoke("SLKNOSUCHKEY00000000"); }), ErrorCode::kNotFound);
}

TEST_F(AuthStoresTest, RevocationReachesARealClockWorkerWithinFiveSeconds) {
  ApiKeyStore admin(*database_, master_key_, 2000, 0);
  IssuedKey issued = admin.Create(Spec());
  Database worker_db(postgres_->conninfo(), 3);
  ApiKeyStore worker(worker_db, master_key_, 2000, 600000);  // the defaults
  worker.Lookup(issued.key_id);
  admin.Revoke(issued.key_id);
  auto revoked_at = std::chrono::steady_clock::now();
  while (true) {
    try {
      worker.Lookup(issued.key_id);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kRevokedKey);
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now() - revoked_at, std::chrono::seconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, std::chrono::milliseconds(2500));
}

TEST_F(AuthStoresTest, UnknownKeysAreRefusedAndCached) {
  FakeClock clock;
  ApiKeyStore store(*database_, master_key_, 2000, 0, clock.Function());
  EXPECT_EQ(CodeOf([&] { store.Lookup("SLKNOTCREATEDYET0000"); }), ErrorCode::kUnknownKey);
  postgres_->Query(
      "INSERT INTO api_clients (key_id, name, secret_sealed) VALUES ('SLKNOTCREATEDYET0000', "
      "'late', decode('" +
      LowerHex(Seal(master_key_, "late-secret", "scanline/api_clients/SLKNOTCREATEDYET0000")) +
      "', 'hex'))");
  EXPECT_EQ(CodeOf([&] { store.Lookup("SLKNOTCREATEDYET0000"); }), ErrorCode::kUnknownKey);
  clock.now += std::chrono::seconds(3);
  EXPECT_EQ(store.Lookup("SLKNOTCREATEDYET0000").secrets, std::vector<std::string>{"late-secret"});
}

TEST_F(AuthStoresTest, ServesCachedKeysWhilePostgresIsDownForTheGraceThenReportsUnavailable) {
  FakeClock clock;
  ApiKeyStore store(*database_, master_key_, 2000, 60000, clock.Function());
  IssuedKey issued = store.Create(Spec());
  store.Lookup(issued.key_id);
  EXPECT_EQ(CodeOf([&] { store.Lookup("SLKNEVERCREATED00000"); }), ErrorCode::kUnknownKey);
  postgres_->Stop();
  clock.now += std::chrono::milliseconds(500);
  EXPECT_NO_THROW(store.Lookup(issued.key_id));
  // Past cache_ms PostgreSQL would be asked; it is away, so the last answer holds...
  clock.now += std::chrono::seconds(2);
  EXPECT_EQ(store.Lookup(issued.key_id).secrets, std::vector<std::string>{issued.secret});
  EXPECT_EQ(CodeOf([&] { store.Lookup("SLKNEVERCREATED00000"); }), ErrorCode::kUnknownKey);
  // ...but a key never looked up cannot be checked...
  EXPECT_EQ(CodeOf([&] { store.Lookup("SLKNOTSEENBEFORE0000"); }), ErrorCode::kServiceUnavailable);
  EXPECT_FALSE(store.NoteUsed(issued.key_id));
  // ...and the grace ends.
  clock.now += std::chrono::seconds(58);
  EXPECT_EQ(CodeOf([&] { store.Lookup(issued.key_id); }), ErrorCode::kServiceUnavailable);
  postgres_->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the reconnect pause
  EXPECT_EQ(store.Lookup(issued.key_id).secrets, std::vector<std::string>{issued.secret});
}

TEST_F(AuthStoresTest, WithoutGraceKeysStopWithTheCacheWhilePostgresIsDown) {
  FakeClock clock;
  ApiKeyStore store(*database_, master_key_, 2000, 0, clock.Function());
  IssuedKey issued = store.Create(Spec());
  store.Lookup(issued.key_id);
  postgres_->Stop();
  clock.now += std::chrono::milliseconds(1999);
  EXPECT_NO_THROW(store.Lookup(issued.key_id));
  clock.now += std::chrono::milliseconds(1);
  EXPECT_EQ(CodeOf([&] { store.Lookup(issued.key_id); }), ErrorCode::kServiceUnavailable);
  postgres_->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the reconnect pause
  EXPECT_NO_THROW(store.Lookup(issued.key_id));
}

TEST_F(AuthStoresTest, NotesUseAtMostOnceAMinute) {
  FakeClock clock;
  ApiKeyStore store(*database_, master_key_, 2000, 0, clock.Function());
  IssuedKey issued = store.Create(Spec());
  ASSERT_TRUE(store.NoteUsed(issued.key_id));
  int64_t first = store.Get(issued.key_id)->last_used_at;
  EXPECT_GT(first, 0);
  postgres_->Query("UPDATE api_clients SET last_used_at = NULL");
  EXPECT_TRUE(store.NoteUsed(issued.key_id));
  EXPECT_EQ(store.Get(issued.key_id)->last_used_at, 0) << "written again within a minute";
  clock.now += std::chrono::seconds(61);
  EXPECT_TRUE(store.NoteUsed(issued.key_id));
  EXPECT_GT(store.Get(issued.key_id)->last_used_at, 0);
}

// --- the CLI -------------------------------------------------------------------------------

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

TEST_F(AuthStoresTest, KeysCommandCreatesListsRotatesAndRevokes) {
  std::string key_file = dir_->path() + "/cli-master.key";
  std::string config = dir_->path() + "/cli.toml";
  WriteFile(config, "[postgres]\nconninfo = \"" + postgres_->conninfo() +
                        "\"\n[auth]\nregion = \"eu-west-1\"\nmaster_key_file = \"" + key_file +
                        "\"\n");
  const std::string scanline = std::string(SCANLINE_BINARY_DIR) + "/scanline --config " + config;
  std::string out;
  ASSERT_EQ(Shell(scanline + " keys new-master-key " + key_file, &out), 0) << out;
  EXPECT_NE(Shell(scanline + " keys new-master-key " + key_file, &out), 0) << "overwrote a key";

  out.clear();
  ASSERT_EQ(
      Shell(scanline + " keys create --name 'cli test' --scopes ocr,forms --rpm 5 --json", &out), 0)
      << out;
  rapidjson::Document created = Json(out);
  std::string key_id = created["key_id"].GetString();
  std::string secret = created["secret"].GetString();
  EXPECT_EQ(std::string(created["region"].GetString()), "eu-west-1");

  // What the CLI stored works for the signature check, under the key file it wrote.
  MasterKey master_key = LoadMasterKey(key_file);
  ApiKeyStore store(*database_, master_key, 0, 0);
  EXPECT_EQ(SignAndVerify(store, key_id, secret).key_id, key_id);
  EXPECT_EQ(store.Lookup(key_id).rate_per_minute, 5);

  out.clear();
  ASSERT_EQ(Shell(scanline + " keys create --name human --scopes lpr", &out), 0) << out;
  EXPECT_NE(out.find("secret:"), std::string::npos);
  EXPECT_NE(out.find("curl --aws-sigv4 'aws:amz:eu-west-1:scanline'"), std::string::npos) << out;

  out.clear();
  ASSERT_EQ(Shell(scanline + " keys list --json", &out), 0) << out;
  rapidjson::Document listed = Json(out);
  ASSERT_EQ(listed.Size(), 2u);
  EXPECT_EQ(std::string(listed[0]["key_id"].GetString()), key_id);
  EXPECT_EQ(out.find(secret), std::string::npos) << "a secret in the listing";
  out.clear();
  ASSERT_EQ(Shell(scanline + " keys list", &out), 0) << out;
  EXPECT_NE(out.find(key_id), std::string::npos);
  EXPECT_NE(out.find("ocr,forms"), std::string::npos);

  out.clear();
  ASSERT_EQ(Shell(scanline + " keys rotate " + key_id + " --json", &out), 0) << out;
  std::string rotated = Json(out)["secret"].GetString();
  EXPECT_EQ(store.Lookup(key_id).secrets, (std::vector<std::string>{rotated, secret}));
  out.clear();
  ASSERT_EQ(Shell(scanline + " keys drop-previous " + key_id, &out), 0) << out;
  EXPECT_EQ(store.Lookup(key_id).secrets, std::vector<std::string>{rotated});

  out.clear();
  ASSERT_EQ(Shell(scanline + " keys revoke " + key_id, &out), 0) << out;
  EXPECT_EQ(CodeOf([&] { store.Lookup(key_id); }), ErrorCode::kRevokedKey);

  out.clear();
  EXPECT_EQ(Shell(scanline + " keys revoke SLKNOSUCHKEY00000000", &out), 1);
  EXPECT_NE(out.find("no such API key"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(Shell(scanline + " keys create --name x --scopes ocr,admin", &out), 1);
  EXPECT_NE(out.find("unknown scope 'admin'"), std::string::npos) << out;
}

// --- replay ----------------------------------------------------------------------------------

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kWindow = 600;  // 2 × the default 300 s skew

std::string FakeSignature(int n) { return LowerHex(Sha256("signature " + std::to_string(n))); }

TEST_F(AuthStoresTest, AcceptsASignatureOnceThroughRedis) {
  ReplayGuard guard(*redis_client_, *database_, kWindow);
  EXPECT_EQ(guard.AcceptOnce(FakeSignature(1), kNow), ReplayStore::kRedis);
  EXPECT_EQ(CodeOf([&] { guard.AcceptOnce(FakeSignature(1), kNow + 1); }),
            ErrorCode::kReplayedRequest);
  EXPECT_EQ(guard.AcceptOnce(FakeSignature(2), kNow), ReplayStore::kRedis);
  // Remembered for the whole window, in Redis only.
  int64_t ttl = redis_client_->TtlMs("replay:" + FakeSignature(1));
  EXPECT_GT(ttl, (kWindow - 5) * 1000);
  EXPECT_LE(ttl, kWindow * 1000);
  EXPECT_EQ(postgres_->Query("SELECT count(*) FROM request_signatures"), "0");
  // Another worker sees it too.
  RedisClient other_redis(redis_->address(), 300, "test:");
  Database other_db(postgres_->conninfo(), 3);
  ReplayGuard other(other_redis, other_db, kWindow);
  EXPECT_EQ(CodeOf([&] { other.AcceptOnce(FakeSignature(1), kNow + 2); }),
            ErrorCode::kReplayedRequest);
}

TEST_F(AuthStoresTest, FallsBackToPostgresWhileRedisIsDownAndRemembersAcrossItsReturn) {
  std::atomic<int64_t> pool_fallback_until{0};  // what the pool keeps in shared memory
  ReplayGuard guard(*redis_client_, *database_, kWindow, &pool_fallback_until);
  RedisClient other_redis(redis_->address(), 300, "test:");
  Database other_db(postgres_->conninfo(), 3);
  ReplayGuard other(other_redis, other_db, kWindow, &pool_fallback_until);

  EXPECT_EQ(guard.AcceptOnce(FakeSignature(10), kNow), ReplayStore::kRedis);
  redis_->Stop();
  EXPECT_EQ(guard.AcceptOnce(FakeSignature(11), kNow + 1), ReplayStore::kPostgres);
  EXPECT_EQ(CodeOf([&] { guard.AcceptOnce(FakeSignature(11), kNow + 2); }),
            ErrorCode::kReplayedRequest);
  EXPECT_EQ(postgres_->Query("SELECT count(*) FROM request_signatures"), "1");
  // A window after the last request that fell back (the refused replay fell back too).
  EXPECT_EQ(pool_fallback_until.load(), kNow + 2 + kWindow);

  redis_->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the reconnect pause
  // The signature accepted during the outage is refused by a worker that never fell back,
  // although Redis never saw it.
  EXPECT_EQ(CodeOf([&] { other.AcceptOnce(FakeSignature(11), kNow + 3); }),
            ErrorCode::kReplayedRequest);
  // New signatures inside the window go to both stores.
  EXPECT_EQ(other.AcceptOnce(FakeSignature(12), kNow + 4), ReplayStore::kRedis);
  EXPECT_EQ(postgres_->Query("SELECT count(*) FROM request_signatures"), "2");
  // After the window, Redis alone again.
  EXPECT_EQ(guard.AcceptOnce(FakeSignature(13), kNow + 2 + kWindow), ReplayStore::kRedis);
  EXPECT_EQ(postgres_->Query("SELECT count(*) FROM request_signatures"), "2");
}

TEST_F(AuthStoresTest, RefusesWhenNeitherStoreCanRecord) {
  ReplayGuard guard(*redis_client_, *database_, kWindow);
  redis_->Stop();
  postgres_->Stop();
  EXPECT_EQ(CodeOf([&] { guard.AcceptOnce(FakeSignature(20), kNow); }),
            ErrorCode::kServiceUnavailable);
  postgres_->Start();
  redis_->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  // Nothing was recorded for the refused request: signed anew, it goes through.
  EXPECT_EQ(guard.AcceptOnce(FakeSignature(20), kNow + 1), ReplayStore::kRedis);
}

TEST_F(AuthStoresTest, PurgesExpiredSignatures) {
  ReplayGuard guard(*redis_client_, *database_, kWindow);
  redis_->Stop();
  for (int i = 0; i < 5; ++i) guard.AcceptOnce(FakeSignature(100 + i), kNow + i);
  redis_->Start();
  EXPECT_EQ(postgres_->Query("SELECT count(*) FROM request_signatures"), "5");
  EXPECT_EQ(guard.PurgeExpired(kNow + kWindow + 2), 2);  // expired at kNow+600 and +601
  EXPECT_EQ(postgres_->Query("SELECT count(*) FROM request_signatures"), "3");
  // Inserts clean up too.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  redis_->Stop();
  guard.AcceptOnce(FakeSignature(200), kNow + 10 * kWindow);
  EXPECT_EQ(postgres_->Query("SELECT count(*) FROM request_signatures"), "1");
  redis_->Start();
}

}  // namespace
}  // namespace scanline::testing
