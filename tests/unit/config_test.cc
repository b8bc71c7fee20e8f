// Config: defaults, file, environment overrides, and errors that name the key.
#include "core/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace scanline {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    char name[] = "/tmp/scanline-config-XXXXXX";
    int fd = mkstemp(name);
    close(fd);
    std::ofstream(name) << text;
    files_.push_back(name);
    return name;
  }
  ~ConfigTest() override {
    for (const auto& f : files_) std::remove(f.c_str());
  }
  std::vector<std::string> files_;
};

TEST_F(ConfigTest, DefaultsNeedNoFile) {
  Config c = LoadConfig("", {});
  EXPECT_EQ(c.server.listen, "unix:/run/scanline/scanline.sock");
  EXPECT_EQ(c.server.backlog, 256);
  EXPECT_EQ(c.auth.max_skew_s, 300);
  EXPECT_GE(EffectiveWorkers(c), 1);
}

TEST_F(ConfigTest, FileValuesAndEnvironmentOverrides) {
  std::string path = Write(
      "[server]\nworkers = 3\nsocket_mode = 0o640\n[auth]\nregion = \"eu-west-1\"\n"
      "debug_signature_header = true\n");
  Config c = LoadConfig(path, {{"SCANLINE_SERVER_WORKERS", "5"}, {"SCANLINE_OTHER", "x"}});
  EXPECT_EQ(c.server.workers, 5);
  EXPECT_EQ(c.server.socket_mode, 0640);
  EXPECT_EQ(c.auth.region, "eu-west-1");
  EXPECT_TRUE(c.auth.debug_signature_header);
  EXPECT_EQ(EffectiveWorkers(c), 5);
}

TEST_F(ConfigTest, UnknownKeyIsNamed) {
  std::string path = Write("[server]\nwrokers = 3\n");
  try {
    LoadConfig(path, {});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "server.wrokers: unknown key");
  }
}

TEST_F(ConfigTest, OutOfRangeAndWrongTypeAreNamed) {
  EXPECT_THROW(
      {
        try {
          LoadConfig(Write("[server]\nbacklog = 0\n"), {});
        } catch (const ConfigError& e) {
          EXPECT_STREQ(e.what(), "server.backlog: must be between 1 and 65535, got 0");
          throw;
        }
      },
      ConfigError);
  EXPECT_THROW(LoadConfig(Write("[server]\nworkers = \"two\"\n"), {}), ConfigError);
  EXPECT_THROW(LoadConfig("", {{"SCANLINE_AUTH_REQUIRED", "perhaps"}}), ConfigError);
  EXPECT_THROW(LoadConfig(Write("[server]\nlisten = \"ftp://x\"\n"), {}), ConfigError);
  EXPECT_THROW(LoadConfig(Write("[log]\nlevel = \"loud\"\n"), {}), ConfigError);
}

TEST_F(ConfigTest, SyntaxErrorNamesLineAndColumn) {
  std::string path = Write("[server]\nworkers = = 3\n");
  try {
    LoadConfig(path, {});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2:"), std::string::npos) << e.what();
  }
}

TEST_F(ConfigTest, DefaultConfigTomlParsesBackToTheDefaults) {
  std::string path = Write(DefaultConfigToml());
  Config c = LoadConfig(path, {});
  Config d;
  EXPECT_EQ(c.server.listen, d.server.listen);
  EXPECT_EQ(c.server.socket_mode, d.server.socket_mode);
  EXPECT_EQ(c.limits.max_body_bytes, d.limits.max_body_bytes);
  EXPECT_EQ(c.log.spool_max_bytes, d.log.spool_max_bytes);
}

}  // namespace
}  // namespace scanline

namespace scanline {
namespace {

// scanline.toml.example is what `scanline-fcgi --print-default-config` prints: regenerate it
// with that command when a key changes.
TEST(ConfigExampleTest, ExampleFileListsEveryKeyWithItsDefault) {
  std::ifstream in(std::string(SCANLINE_SOURCE_DIR) + "/scanline.toml.example");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), DefaultConfigToml());
}

}  // namespace
}  // namespace scanline
