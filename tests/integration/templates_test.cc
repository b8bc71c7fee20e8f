// Prompt templates against a real PostgreSQL and Redis started by the testbed: migrations
// from an empty database and again, built-in templates loaded once, the version lifecycle
// (create, activate, roll back, A/B split), a change made by one worker seen by another
// through the Redis cache, a change the cache missed caught by the periodic check, export/import
// round trip, service with Redis stopped, and the /v1/templates handler.
#include "handlers/templates.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <regex>
#include <thread>

#include "core/database.h"
#include "core/error.h"
#include "core/migrations.h"
#include "core/redis.h"
#include "core/template.h"
#include "core/template_store.h"
#include "tests/error_code.h"
#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

const std::string kSql = SCANLINE_SOURCE_DIR "/core/sql";
const std::string kTemplates = SCANLINE_SOURCE_DIR "/templates";

class TemplatesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::signal(SIGPIPE, SIG_IGN);
    dir_ = new TempDir();
    postgres_ = new Postgres(dir_->path());
    redis_ = new Redis(dir_->path());
  }
  static void TearDownTestSuite() {
    delete redis_;
    delete postgres_;
    delete dir_;
  }

  // A fresh, migrated database per test: no state leaks between tests.
  void SetUp() override {
    static int n = 0;
    db_name_ = "tmpl_" + std::to_string(++n);
    postgres_->Query("CREATE DATABASE " + db_name_);
    conninfo_ = std::regex_replace(postgres_->conninfo(), std::regex("dbname=scanline"),
                                   "dbname=" + db_name_);
    database_ = std::make_unique<Database>(conninfo_, 3);
    ApplyMigrations(*database_, ReadMigrations(kSql));
    redis_client_ = std::make_unique<RedisClient>(redis_->address(), 300, db_name_ + ":");
  }

  Template Receipt() {
    for (Template& t : LoadTemplateDir(kTemplates)) {
      if (t.document_type == "receipt") return t;
    }
    ADD_FAILURE() << "no receipt template";
    return {};
  }

  static TempDir* dir_;
  static Postgres* postgres_;
  static Redis* redis_;
  std::string db_name_;
  std::string conninfo_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<RedisClient> redis_client_;
};

TempDir* TemplatesTest::dir_ = nullptr;
Postgres* TemplatesTest::postgres_ = nullptr;
Redis* TemplatesTest::redis_ = nullptr;

TEST_F(TemplatesTest, MigratesUpFromEmptyIdempotentlyAndRefusesANewerSchema) {
  postgres_->Query("CREATE DATABASE mig_empty");
  Database db(
      std::regex_replace(postgres_->conninfo(), std::regex("dbname=scanline"), "dbname=mig_empty"),
      3);
  const auto migrations = ReadMigrations(kSql);
  ASSERT_GE(migrations.size(), 3u);
  EXPECT_EQ(SchemaVersion(db), 0);
  std::vector<int> applied = ApplyMigrations(db, migrations);
  EXPECT_EQ(applied.size(), migrations.size());
  EXPECT_EQ(SchemaVersion(db), migrations.back().version);
  EXPECT_TRUE(ApplyMigrations(db, migrations).empty());
  CheckSchema(db, migrations);
  // A build that knows fewer migrations than the database has must not start.
  std::vector<int> none = ApplyMigrations(db, migrations);
  EXPECT_TRUE(none.empty());
  auto older = migrations;
  older.pop_back();
  EXPECT_EQ(CodeOf([&] { CheckSchema(db, older); }), ErrorCode::kInternal);
}

TEST_F(TemplatesTest, PoolAndMigrateRefuseASchemaNewerThanTheBuild) {
  postgres_->Query("INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')",
                   db_name_);
  const std::string config = dir_->path() + "/" + db_name_ + ".toml";
  WriteFile(config, "[postgres]\nconninfo = \"" + conninfo_ +
                        "\"\n[server]\nlisten = \"unix:" + dir_->path() + "/" + db_name_ +
                        ".sock\"\n[log]\nspool_dir = \"" + dir_->path() + "/spool\"\n");
  std::string out;
  EXPECT_EQ(
      Shell(std::string(SCANLINE_BINARY_DIR) + "/scanline --config " + config + " migrate", &out),
      1)
      << out;
  EXPECT_NE(out.find("newer than this build"), std::string::npos) << out;
  // The pool stops at once, with and without applying migrations itself (a pool that
  // started would still be running when `timeout` ends it: status 124).
  for (const char* flags : {"", " --no-migrate"}) {
    out.clear();
    EXPECT_EQ(Shell("timeout 30 " + std::string(SCANLINE_BINARY_DIR) + "/scanline-fcgi --config " +
                        config + flags,
                    &out),
              1)
        << flags << ": " << out;
    EXPECT_NE(out.find("newer than this build"), std::string::npos) << out;
  }
}

TEST_F(TemplatesTest, LoadsBuiltInTemplatesOnceAndActivatesThem) {
  TemplateStore store(*database_, redis_client_.get(), 60);
  const auto builtins = LoadTemplateDir(kTemplates);
  ASSERT_EQ(builtins.size(), 4u);
  EXPECT_EQ(store.LoadBuiltins(builtins).size(), 4u);
  EXPECT_TRUE(store.LoadBuiltins(builtins).empty());  // a second migrate adds nothing
  for (const char* type : {"receipt", "invoice", "id_card", "generic_form"}) {
    ResolvedTemplate r = store.Resolve(type, 0, "req");
    EXPECT_EQ(r.tmpl.version, 1) << type;
    EXPECT_EQ(r.tmpl.document_type, type);
  }
  auto list = store.List();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_TRUE(list[0].is_default);
  EXPECT_TRUE(list[0].active);
  // A changed built-in becomes a new, inactive version; the operator's choice stands.
  Template changed = builtins[2];
  changed.description += " (changed)";
  std::vector<Template> again = builtins;
  again[2] = changed;
  auto notes = store.LoadBuiltins(again);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("v2"), std::string::npos);
  EXPECT_EQ(store.Resolve(changed.document_type, 0, "").tmpl.version, 1);
}

TEST_F(TemplatesTest, CachedEntriesExpireAfterTheConfiguredTtl) {
  TemplateStore store(*database_, redis_client_.get(), 3600);
  store.Create(Receipt(), "test");
  store.Resolve("receipt", 0, "");
  store.Resolve("receipt", 1, "");
  for (const char* key : {"tmpl:active:receipt", "tmpl:v:receipt:1"}) {
    const int64_t ttl = redis_client_->TtlMs(key);
    EXPECT_GT(ttl, 3590 * 1000) << key;
    EXPECT_LE(ttl, 3600 * 1000) << key;
  }
}

TEST_F(TemplatesTest, ActivationAndRollbackReachAnotherWorkerThroughTheCache) {
  // Two workers: separate connections to PostgreSQL and Redis.
  TemplateStore a(*database_, redis_client_.get(), 3600);
  Database db_b(conninfo_, 3);
  RedisClient redis_b(redis_->address(), 300, db_name_ + ":");
  TemplateStore b(db_b, &redis_b, 3600);

  Template v1 = a.Create(Receipt(), "test");
  EXPECT_EQ(v1.version, 1);
  Template next = Receipt();
  next.description = "second version";
  Template v2 = a.Create(next, "test");
  EXPECT_EQ(v2.version, 2);

  EXPECT_EQ(b.Resolve("receipt", 0, "r").tmpl.version, 1);
  ResolvedTemplate cached = b.Resolve("receipt", 0, "r");
  EXPECT_TRUE(cached.cached);  // the second read came from Redis
  EXPECT_EQ(cached.tmpl.version, 1);

  a.Activate("receipt", 2);
  ResolvedTemplate after = b.Resolve("receipt", 0, "r");
  EXPECT_EQ(after.tmpl.version, 2);
  EXPECT_EQ(after.tmpl.description, "second version");

  EXPECT_EQ(a.Rollback("receipt"), 1);
  EXPECT_EQ(b.Resolve("receipt", 0, "r").tmpl.version, 1);
  EXPECT_EQ(CodeOf([&] { a.Rollback("receipt"); }), ErrorCode::kConflict);

  // Versions are immutable: v2 is still what was created.
  EXPECT_EQ(a.Get("receipt", 2).description, "second version");
  EXPECT_EQ(b.Resolve("receipt", 2, "").tmpl.version, 2);
  EXPECT_EQ(CodeOf([&] { a.Activate("receipt", 9); }), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { b.Resolve("nothing", 0, ""); }), ErrorCode::kNotFound);
}

TEST_F(TemplatesTest, ConcurrentActivationsAllSucceedAndLeaveOneActiveVersion) {
  TemplateStore setup(*database_, nullptr, 3600);
  for (int i = 0; i < 3; ++i) {
    Template t = Receipt();
    t.description = "version " + std::to_string(i + 1);
    setup.Create(t, "test");
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int worker = 0; worker < 2; ++worker) {
    threads.emplace_back([&, worker] {
      Database db(conninfo_, 3);
      TemplateStore store(db, nullptr, 3600);
      for (int i = 0; i < 15; ++i) {
        try {
          store.Activate("receipt", 2 + (i + worker) % 2);
        } catch (const Error& e) {
          ++failures;
          ADD_FAILURE() << e.detail() << " " << e.internal();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(postgres_->Query("SELECT count(*) FROM prompt_templates WHERE document_type = "
                             "'receipt' AND status = 'active'",
                             db_name_),
            "1");
}

TEST_F(TemplatesTest, RefusesATemplateForALanguageNotInstalled) {
  TemplateStore store(*database_, nullptr, 3600);
  store.set_installed_languages({"deu", "eng"});
  Template t = Receipt();
  t.ocr_lang = "eng+deu";
  EXPECT_EQ(store.Create(t, "test").version, 1);
  t.ocr_lang = "eng+xyz";
  EXPECT_EQ(CodeOf([&] { store.Create(t, "test"); }), ErrorCode::kUnprocessable);
  const std::string exported = store.ExportAll();
  std::string foreign = exported;
  const std::string lang = "\"ocr_lang\":\"eng+deu\"";
  ASSERT_NE(foreign.find(lang), std::string::npos) << foreign;
  foreign.replace(foreign.find(lang), lang.size(), "\"ocr_lang\":\"eng+xyz\"");
  TemplateStore other(*database_, nullptr, 3600);
  other.set_installed_languages({"eng"});
  EXPECT_EQ(CodeOf([&] { other.Import(foreign, "test"); }), ErrorCode::kUnprocessable);
  EXPECT_EQ(store.List("receipt").size(), 1u);  // nothing stored by the refused calls
}

TEST_F(TemplatesTest, SplitsTrafficBetweenTwoVersionsByRequest) {
  TemplateStore store(*database_, redis_client_.get(), 3600);
  store.Create(Receipt(), "test");
  Template next = Receipt();
  next.description = "candidate";
  store.Create(next, "test");
  EXPECT_EQ(CodeOf([&] { store.SetSplit("receipt", 1, 30); }), ErrorCode::kInvalidOption);
  store.SetSplit("receipt", 2, 30);
  int candidate = 0;
  for (int i = 0; i < 1000; ++i) {
    ResolvedTemplate r = store.Resolve("receipt", 0, "request-" + std::to_string(i));
    EXPECT_EQ(r.candidate, r.tmpl.version == 2);
    candidate += r.candidate;
  }
  EXPECT_GT(candidate, 230);
  EXPECT_LT(candidate, 370);
  // The same request id always gets the same version.
  const int first = store.Resolve("receipt", 0, "fixed").tmpl.version;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(store.Resolve("receipt", 0, "fixed").tmpl.version, first);
  auto list = store.List("receipt");
  EXPECT_EQ(list[1].candidate_percent, 30);
  store.SetSplit("receipt", 0, 0);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(store.Resolve("receipt", 0, std::to_string(i)).tmpl.version, 1);
  }
}

TEST_F(TemplatesTest, ExportImportRoundTrip) {
  TemplateStore store(*database_, redis_client_.get(), 3600);
  store.LoadBuiltins(LoadTemplateDir(kTemplates));
  Template next = Receipt();
  next.description = "v2";
  store.Create(next, "test");
  store.Activate("receipt", 2);
  Template third = Receipt();
  third.description = "v3";
  store.Create(third, "test");
  store.SetSplit("receipt", 3, 10);
  const std::string exported = store.ExportAll();

  postgres_->Query("CREATE DATABASE " + db_name_ + "_copy");
  Database copy_db(
      std::regex_replace(conninfo_, std::regex("dbname=\\w+"), "dbname=" + db_name_ + "_copy"), 3);
  ApplyMigrations(copy_db, ReadMigrations(kSql));
  TemplateStore copy(copy_db, nullptr, 60);
  auto result = copy.Import(exported, "test");
  EXPECT_EQ(result.created, 6);
  EXPECT_EQ(copy.ExportAll(), exported);
  EXPECT_EQ(copy.Resolve("receipt", 0, "x").tmpl.version, 2 + 0 * result.skipped);
  // Importing again changes nothing.
  auto again = copy.Import(exported, "test");
  EXPECT_EQ(again.created, 0);
  EXPECT_EQ(again.skipped, 6);
  EXPECT_EQ(copy.ExportAll(), exported);
  // A bad document is refused whole.
  EXPECT_EQ(CodeOf([&] { copy.Import("{\"templates\":[{\"document_type\":\"x\"}]}", "t"); }),
            ErrorCode::kUnprocessable);
}

TEST_F(TemplatesTest, ServesFromPostgresWhileRedisIsDown) {
  TemplateStore store(*database_, redis_client_.get(), 3600);
  store.Create(Receipt(), "test");
  Template next = Receipt();
  next.description = "v2";
  store.Create(next, "test");
  EXPECT_EQ(store.Resolve("receipt", 0, "").tmpl.version, 1);
  redis_->Stop();
  ResolvedTemplate r = store.Resolve("receipt", 0, "");
  EXPECT_EQ(r.tmpl.version, 1);
  EXPECT_FALSE(r.cached);
  store.Activate("receipt", 2);  // succeeds; the cache could not be told
  EXPECT_EQ(store.Resolve("receipt", 0, "").tmpl.version, 2);
  redis_->Start();
  // Redis came back empty (no persistence): the next read fills it with the current state.
  EXPECT_EQ(store.Resolve("receipt", 0, "").tmpl.version, 2);
}

TEST_F(TemplatesTest, AnUnreadableCacheEntryIsReplacedFromPostgres) {
  TemplateStore store(*database_, redis_client_.get(), 3600, 60000);
  store.Create(Receipt(), "test");
  EXPECT_EQ(store.Resolve("receipt", 0, "").tmpl.version, 1);
  EXPECT_TRUE(store.Resolve("receipt", 0, "").cached);
  for (const char* garbage : {"{not json", "{\"active\":7}", "[]"}) {
    redis_client_->Set("tmpl:active:receipt", garbage, 3600);
    ResolvedTemplate r = store.Resolve("receipt", 0, "");
    EXPECT_EQ(r.tmpl.version, 1) << garbage;
    EXPECT_FALSE(r.cached) << garbage;
    ResolvedTemplate again = store.Resolve("receipt", 0, "");  // the entry was rewritten
    EXPECT_TRUE(again.cached) << garbage;
    EXPECT_EQ(again.tmpl.version, 1);
  }
}

TEST_F(TemplatesTest, ANamedVersionIsReadOncePerWorkerAndAnUnreadableEntryReplaced) {
  TemplateStore a(*database_, redis_client_.get(), 3600, 60000);
  a.Create(Receipt(), "test");
  EXPECT_FALSE(a.Resolve("receipt", 1, "").cached);  // from PostgreSQL, into Redis
  // Another worker finds it in Redis; an unreadable entry there is replaced.
  redis_client_->Set("tmpl:v:receipt:1", "{not json", 3600);
  Database db_b(conninfo_, 3);
  RedisClient redis_b(redis_->address(), 300, db_name_ + ":");
  TemplateStore b(db_b, &redis_b, 3600, 60000);
  ResolvedTemplate r = b.Resolve("receipt", 1, "");
  EXPECT_FALSE(r.cached);
  EXPECT_EQ(r.tmpl.version, 1);
  const std::string rewritten = redis_client_->Get("tmpl:v:receipt:1").value_or("");
  EXPECT_FALSE(rewritten.empty());
  EXPECT_NE(rewritten, "{not json");
  // Versions never change: a worker keeps the one it has read, without asking Redis again.
  redis_client_->Set("tmpl:v:receipt:1", "{not json", 3600);
  ResolvedTemplate again = a.Resolve("receipt", 1, "");
  EXPECT_TRUE(again.cached);
  EXPECT_EQ(again.tmpl.version, 1);
  EXPECT_EQ(redis_client_->Get("tmpl:v:receipt:1").value_or(""), "{not json");
}

TEST_F(TemplatesTest, AChangeTheCacheMissedReachesEveryWorkerWithinTheCheckInterval) {
  // Worker a cannot reach Redis (a partition, or Redis down and back with its data): its
  // activation cannot delete the cached set that worker b serves.
  Database db_b(conninfo_, 3);
  RedisClient redis_b(redis_->address(), 300, db_name_ + ":");
  TemplateStore b(db_b, &redis_b, 3600, 1000);
  RedisClient unreachable("tcp:127.0.0.1:1", 300, db_name_ + ":");
  TemplateStore a(*database_, &unreachable, 3600, 1000);
  a.Create(Receipt(), "test");
  Template next = Receipt();
  next.description = "v2";
  a.Create(next, "test");
  EXPECT_EQ(b.Resolve("receipt", 0, "").tmpl.version, 1);
  EXPECT_TRUE(b.Resolve("receipt", 0, "").cached);

  a.Activate("receipt", 2);  // succeeds; the cache could not be told
  const auto changed = std::chrono::steady_clock::now();
  int seen = 0;
  while (std::chrono::steady_clock::now() - changed < std::chrono::seconds(3)) {
    seen = b.Resolve("receipt", 0, "").tmpl.version;
    if (seen == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(seen, 2);
  EXPECT_LE(std::chrono::steady_clock::now() - changed, std::chrono::milliseconds(1500));
  // b replaced the cached set: a third worker reads the new state from Redis.
  RedisClient redis_c(redis_->address(), 300, db_name_ + ":");
  TemplateStore c(db_b, &redis_c, 3600, 60000);
  ResolvedTemplate from_cache = c.Resolve("receipt", 0, "");
  EXPECT_TRUE(from_cache.cached);
  EXPECT_EQ(from_cache.tmpl.version, 2);

  // A split set behind the cache's back is caught the same way.
  a.SetSplit("receipt", 1, 50);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  int candidates = 0;
  for (int i = 0; i < 40; ++i) {
    candidates += b.Resolve("receipt", 0, "request-" + std::to_string(i)).candidate ? 1 : 0;
  }
  EXPECT_GT(candidates, 5);
  EXPECT_LT(candidates, 35);
}

TEST_F(TemplatesTest, AdminHandlerCreatesListsActivatesAndRefusesBadInput) {
  TemplateStore store(*database_, redis_client_.get(), 3600);
  Config config;
  Services services;
  services.config = &config;
  services.templates = &store;
  RequestLogRecord log;
  RequestContext context{services, Caller{"AKTEST", {"templates:admin"}}, log};
  auto call = [&](std::string method, std::string path, std::string query = "",
                  std::string body = "") {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.query = std::move(query);
    r.body = std::move(body);
    return HandleTemplates(r, context);
  };
  Response created = call("POST", "/v1/templates/receipt/versions", "", TemplateToJson(Receipt()));
  EXPECT_EQ(created.status, 201);
  EXPECT_NE(created.body.find("\"version\":1"), std::string::npos);
  Template second = Receipt();
  second.prompt = "another prompt";
  EXPECT_EQ(call("POST", "/v1/templates/receipt/versions", "", TemplateToJson(second)).status, 201);
  Response list = call("GET", "/v1/templates/receipt");
  rapidjson::Document doc;
  doc.Parse(list.body.c_str());
  ASSERT_TRUE(doc.IsObject());
  ASSERT_EQ(doc["templates"].Size(), 2u);
  EXPECT_STREQ(doc["templates"][0]["status"].GetString(), "active");
  EXPECT_STREQ(doc["templates"][1]["created_by"].GetString(), "AKTEST");
  EXPECT_EQ(call("POST", "/v1/templates/receipt/activate", "version=2").status, 200);
  EXPECT_NE(call("GET", "/v1/templates/receipt/active").body.find("another prompt"),
            std::string::npos);
  EXPECT_NE(call("POST", "/v1/templates/receipt/rollback").body.find("\"active_version\":1"),
            std::string::npos);
  EXPECT_NE(call("GET", "/v1/templates/export").body.find("\"templates\""), std::string::npos);
  EXPECT_EQ(CodeOf([&] { call("POST", "/v1/templates/receipt/versions", "", "{not json"); }),
            ErrorCode::kBadRequest);
  EXPECT_EQ(CodeOf([&] {
              call("POST", "/v1/templates/invoice/versions", "", TemplateToJson(Receipt()));
            }),
            ErrorCode::kUnprocessable);
  EXPECT_EQ(CodeOf([&] { call("POST", "/v1/templates/receipt/activate", "version=abc"); }),
            ErrorCode::kInvalidOption);
  EXPECT_EQ(CodeOf([&] { call("GET", "/v1/templates/receipt/versions/7"); }), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { call("GET", "/v1/templates/unknown"); }), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace scanline::testing
