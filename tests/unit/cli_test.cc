// The `scanline` commands that need no server: ocr, lpr, extract, fill and templates eval.
// Output (text and JSON), progress on stderr for several files, and the exit status (0 all
// read, 1 any failed, 2 bad command line or option).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

const std::string kData = SCANLINE_SOURCE_DIR "/../shared/data";

class CliTest : public ::testing::Test {
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

  // `scanline ocr ARGS` in the test's folder.
  CommandRun Scanline(const std::string& args) { return Run("ocr " + args); }
  CommandRun Run(const std::string& command) {
    CommandRun run;
    const std::string cmd = "cd '" + dir_ + "' && '" + SCANLINE_BINARY_DIR + "/scanline' " +
                            command + " >out.txt 2>err.txt";
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

TEST_F(CliTest, PrintsTextOrJson) {
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

TEST_F(CliTest, SeveralFilesShowProgressAndFailuresSetTheStatus) {
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

TEST_F(CliTest, BadOptionExitsWithTwoNamingIt) {
  const CommandRun run = Scanline("--psm 77 page.png");
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("psm"), std::string::npos) << run.err;
  const CommandRun lang = Scanline("--lang xx page.png");
  EXPECT_EQ(lang.status, 2);
  EXPECT_NE(lang.err.find("installed"), std::string::npos) << lang.err;
  EXPECT_EQ(Scanline("--no-such-flag page.png").status, 2);
  EXPECT_EQ(Run("no-such-command").status, 2);
  // Options also go by the request's names (deadline_ms as --deadline-ms).
  const CommandRun underscore = Scanline("--deadline_ms 60000 --format text page.png");
  EXPECT_EQ(underscore.status, 0) << underscore.err;
  EXPECT_LT(Cer(kText, underscore.out), 0.05) << underscore.out;
}

TEST_F(CliTest, LprPrintsAJsonLinePerPhotoWithProgress) {
  std::vector<std::string> photos;
  for (const auto& entry : std::filesystem::directory_iterator(kData + "/lpr/us")) {
    if (entry.path().extension() == ".jpg") photos.push_back(entry.path());
  }
  std::sort(photos.begin(), photos.end());
  ASSERT_GE(photos.size(), 2u);
  const CommandRun run = Run("lpr --region us '" + photos[0] + "' missing.jpg '" + photos[1] + "'");
  EXPECT_EQ(run.status, 1) << run.err;  // the missing file
  std::istringstream lines(run.out);
  std::string line;
  int objects = 0;
  while (std::getline(lines, line)) {
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    ASSERT_TRUE(doc.IsObject()) << line;
    EXPECT_TRUE(doc.HasMember("file") && doc["file"].IsString());
    EXPECT_TRUE(doc.HasMember("plates") && doc["plates"].IsArray()) << line;
    EXPECT_TRUE(doc.HasMember("timings_ms")) << line;
    ++objects;
  }
  EXPECT_EQ(objects, 2);
  EXPECT_NE(run.err.find("[1/3]"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("missing.jpg"), std::string::npos) << run.err;
  EXPECT_EQ(Run("lpr --region zz page.png").status, 2);
  EXPECT_EQ(Run("lpr --top-n 0 page.png").status, 2);
}

TEST_F(CliTest, ExtractGivesTheTemplatesFieldsAndRefusesWhatItCannotDo) {
  const CommandRun run = Run("extract --type receipt '" + kData + "/receipts/img/000.jpg'");
  ASSERT_EQ(run.status, 0) << run.err;
  rapidjson::Document doc;
  doc.Parse(run.out.c_str());
  ASSERT_TRUE(doc.IsObject()) << run.out;
  EXPECT_STREQ(doc["document_type"].GetString(), "receipt");
  for (const char* field : {"company", "date", "address", "total"}) {
    EXPECT_TRUE(doc["fields"].HasMember(field)) << field;
  }
  // Said before any image is read.
  const CommandRun llm = Run("extract --type receipt --engine llm page.png");
  EXPECT_EQ(llm.status, 2);
  EXPECT_NE(llm.err.find("llm"), std::string::npos) << llm.err;
  EXPECT_EQ(Run("extract --type no_such_type page.png").status, 2);
  EXPECT_EQ(Run("extract page.png").status, 2);  // no --type
  EXPECT_EQ(Run("extract --type receipt missing.png").status, 1);
}

TEST_F(CliTest, FillWritesTheFormWithTheValuesIn) {
  std::ofstream(dir_ + "/profile.json") << R"({"reading": "yes", "colour": "blue"})";
  const CommandRun run = Run("fill page.png --profile profile.json --out filled.png");
  ASSERT_EQ(run.status, 0) << run.err;
  rapidjson::Document doc;
  doc.Parse(run.out.c_str());
  ASSERT_TRUE(doc.IsObject()) << run.out;
  ASSERT_TRUE(doc.HasMember("unmatched_keys")) << run.out;
  bool colour_unmatched = false;
  for (const auto& k : doc["unmatched_keys"].GetArray()) {
    colour_unmatched |= std::string(k.GetString()) == "colour";
  }
  EXPECT_TRUE(colour_unmatched) << run.out;
  std::ifstream png(dir_ + "/filled.png", std::ios::binary);
  std::string magic(8, '\0');
  png.read(magic.data(), 8);
  EXPECT_EQ(magic, "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(Run("fill page.png --profile missing.json").status, 1);
}

TEST_F(CliTest, TemplatesEvalScoresALabelledFolder) {
  // Two labelled receipts, linked into a folder of the layout eval reads.
  std::filesystem::create_directories(dir_ + "/set/img");
  std::filesystem::create_directories(dir_ + "/set/key");
  for (const char* name : {"000", "001"}) {
    std::filesystem::create_symlink(kData + "/receipts/img/" + name + ".jpg",
                                    dir_ + "/set/img/" + name + ".jpg");
    std::filesystem::create_symlink(kData + "/receipts/key/" + name + ".json",
                                    dir_ + "/set/key/" + name + ".json");
  }
  const CommandRun run = Run("templates eval --type receipt --data set");
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("2 documents"), std::string::npos) << run.out;
  // Every field is labelled on both receipts: right + missed = 2 on each line.
  int fields = 0;
  std::istringstream lines(run.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream row(line);
    std::string name;
    double p, r, f1;
    int tp, fp, fn;
    if (!(row >> name >> p >> r >> f1 >> tp >> fp >> fn) || name == "overall") continue;
    EXPECT_EQ(tp + fn, 2) << line;
    ++fields;
  }
  EXPECT_EQ(fields, 4) << run.out;
  EXPECT_NE(Run("templates eval --type receipt --data no_such_folder").status, 0);
}

}  // namespace
}  // namespace scanline
