// The systemd units pass `systemd-analyze verify` with no warning at all (unknown keys are
// only warnings there, so the output must be empty too), and the pool's config check works
// as ExecStartPre uses it.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/testbed.h"

namespace scanline::testing {
namespace {

std::string UnitsWithBuildBinary(const TempDir& dir) {
  std::string source = SCANLINE_SOURCE_DIR;
  std::string binary = std::string(SCANLINE_BINARY_DIR) + "/scanline-fcgi";
  for (const char* unit : {"scanline.service", "scanline.socket"}) {
    std::string text = ReadFile(source + "/systemd/" + unit);
    size_t pos = 0;
    while ((pos = text.find("/usr/local/bin/scanline-fcgi", pos)) != std::string::npos) {
      text.replace(pos, 28, binary);
      pos += binary.size();
    }
    WriteFile(dir.path() + "/" + unit, text);
  }
  return dir.path();
}

TEST(SystemdUnitsTest, VerifyCleanly) {
  TempDir dir;
  std::string units = UnitsWithBuildBinary(dir);
  std::string out;
  int rc = Shell("systemd-analyze verify --man=no " + units + "/scanline.socket " + units +
                     "/scanline.service",
                 &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "");
}

TEST(SystemdUnitsTest, VerifyCatchesAnUnknownKey) {
  TempDir dir;
  std::string units = UnitsWithBuildBinary(dir);
  WriteFile(units + "/scanline.service",
            ReadFile(units + "/scanline.service") + "\n[Service]\nNoSuchSetting=1\n");
  std::string out;
  Shell("systemd-analyze verify --man=no " + units + "/scanline.service", &out);
  EXPECT_NE(out.find("NoSuchSetting"), std::string::npos) << out;
}

TEST(SystemdUnitsTest, HardeningAndNotifySettingsArePresent) {
  std::string unit = ReadFile(std::string(SCANLINE_SOURCE_DIR) + "/systemd/scanline.service");
  for (const char* line :
       {"Type=notify", "WatchdogSec=", "ExecReload=", "ProtectSystem=strict", "NoNewPrivileges=yes",
        "PrivateTmp=yes", "MemoryMax=", "LoadCredential=master.key"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << line;
  }
}

TEST(CheckConfigTest, NamesTheBadKeyAndExitsNonZero) {
  TempDir dir;
  std::string binary = std::string(SCANLINE_BINARY_DIR) + "/scanline-fcgi";
  WriteFile(dir.path() + "/good.toml", "[server]\nworkers = 3\n");
  WriteFile(dir.path() + "/bad.toml", "[server]\nworkers = 3\nwrokers = 4\n");
  WriteFile(dir.path() + "/range.toml", "[server]\nworkers = -1\n");
  std::string out;
  EXPECT_EQ(Shell(binary + " --check-config --config " + dir.path() + "/good.toml", &out), 0)
      << out;
  out.clear();
  EXPECT_NE(Shell(binary + " --check-config --config " + dir.path() + "/bad.toml", &out), 0);
  EXPECT_NE(out.find("server.wrokers: unknown key"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(Shell(binary + " --check-config --config " + dir.path() + "/range.toml", &out), 0);
  EXPECT_NE(out.find("server.workers: must be between 0 and 256"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(Shell("SCANLINE_SERVER_BACKLOG=lots " + binary + " --check-config", &out), 0);
  EXPECT_NE(out.find("server.backlog (SCANLINE_SERVER_BACKLOG): must be an integer"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace scanline::testing
