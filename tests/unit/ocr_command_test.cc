// `scanline ocr FILE...` with no server: text and JSON output, progress on stderr for several
// files, and the exit status (0 all read, 1 any failed, 2 bad option).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/text_images.h"

namespace scanline {
namespace {

using testing::Cer;
using testing::Encode;
using testing::RenderText;
using testing::Scaled;

const char kText[] = "Command line reading 3141\nno server needed here.\n";

struct CommandRun {
  int status = -1;
  std::string out, err;
};

class OcrCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("scanline-ocr-cli-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/page.png", std::ios::binary)
        << Encode(Scaled(RenderText(kText, 12, 300), 0.5), ".png");
    std::ofstream(dir_ + "/broken.png", std::ios::binary) << "\x89PNG\r\n\x1a\n broken";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CommandRun Scanline(const std::string& args) {
    CommandRun run;
    const std::string cmd = "cd '" + dir_ + "' && '" + SCANLINE_BINARY_DIR + "/scanline' ocr " +
                            args + " >out.txt 2>err.txt";
    const int rc = std::system(cmd.c_str());
    run.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    auto read = [&](const char* name) {
      std::ifstream in(dir_ + "/" + name);
      std::ostringstream s;
      s << in.rdbuf();
      return s.str();
    };
    run.out = read("out.txt");
    run.err = read("err.txt");
    return run;
  }

  std::string dir_;
};

TEST_F(OcrCommandTest, PrintsTextOrJson) {
  const CommandRun text = Scanline("--format text page.png");
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_LT(Cer(kText, text.out), 0.05) << text.out;
  EXPECT_EQ(text.err, "");  // one file: no progress

  const CommandRun json = Scanline("--level lines page.png");
  ASSERT_EQ(json.status, 0) << json.err;
  rapidjson::Document doc;
  doc.Parse(json.out.c_str());
  ASSERT_TRUE(doc.IsObject()) << json.out;
  EXPECT_LT(Cer(kText, doc["text"].GetString()), 0.05);
  EXPECT_STREQ(doc["options"]["level"].GetString(), "lines");
}

TEST_F(OcrCommandTest, SeveralFilesShowProgressAndFailuresSetTheStatus) {
  const CommandRun run = Scanline("--format text page.png missing.png broken.png page.png");
  EXPECT_EQ(run.status, 1);
  // Both good files are still read and printed.
  size_t first = run.out.find("3141"), second = run.out.rfind("3141");
  EXPECT_NE(first, std::string::npos) << run.out;
  EXPECT_NE(first, second);
  EXPECT_NE(run.out.find("==> page.png <=="), std::string::npos);
  EXPECT_NE(run.err.find("[1/4] page.png"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("[2/4] missing.png: failed"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("broken.png"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("4 file(s), 2 failed"), std::string::npos) << run.err;
  EXPECT_EQ(Scanline("-q page.png page.png").err, "");
}

TEST_F(OcrCommandTest, BadOptionExitsWithTwoNamingIt) {
  const CommandRun run = Scanline("--psm 77 page.png");
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("psm"), std::string::npos) << run.err;
  const CommandRun lang = Scanline("--lang xx page.png");
  EXPECT_EQ(lang.status, 2);
  EXPECT_NE(lang.err.find("installed"), std::string::npos) << lang.err;
}

}  // namespace
}  // namespace scanline
