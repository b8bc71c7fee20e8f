// OpenMP regions run inline (core/ocr.h, RunOpenMpRegionsInline), driven by the code GCC
// makes of OpenMP directives, the same calls libtesseract makes: on, a region runs on the
// calling thread with no team and every iteration and section runs once, sections in order,
// nested ones too; off, libgomp runs the same regions in teams of its own.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include "core/ocr.h"

namespace scanline {
namespace {

class OcrOpenMpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { PrepareTesseractProcess(); }
  void TearDown() override { RunOpenMpRegionsInline(true); }  // as PrepareTesseractProcess left it
};

struct Seen {
  int threads = 0;
  int thread = -1;
  int level = -1;
  std::thread::id id;
};

Seen InARegion() {
  Seen seen;
#pragma omp parallel num_threads(4)
  {
    seen.threads = omp_get_num_threads();
    seen.thread = omp_get_thread_num();
    seen.level = omp_get_level();
    seen.id = std::this_thread::get_id();
  }
  return seen;
}

// Sections 1..4; the second holds a region of its own with sections 21 and 22.
std::vector<int> Sections() {
  std::vector<int> order;
  std::mutex mu;
  auto note = [&](int section) {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(section);
  };
#pragma omp parallel sections num_threads(4)
  {
#pragma omp section
    note(1);
#pragma omp section
    {
      note(2);
#pragma omp parallel sections num_threads(2)
      {
#pragma omp section
        note(21);
#pragma omp section
        note(22);
      }
    }
#pragma omp section
    note(3);
#pragma omp section
    note(4);
  }
  return order;
}

TEST_F(OcrOpenMpTest, ARegionRunsOnTheCallingThreadWithNoTeam) {
  const uint64_t before = OpenMpRegionsRunInline();
  const Seen seen = InARegion();
  EXPECT_EQ(OpenMpRegionsRunInline(), before + 1);
  EXPECT_EQ(seen.threads, 1);
  EXPECT_EQ(seen.thread, 0);
  EXPECT_EQ(seen.level, 0);  // no team: libgomp's would be level 1
  EXPECT_EQ(seen.id, std::this_thread::get_id());
}

// A `parallel for` with a dynamic schedule enters through an entry point of its own, which
// libtesseract does not import and which stays libgomp's.
TEST_F(OcrOpenMpTest, EveryIterationRunsOnce) {
  std::vector<int> runs(1000, 0), dynamic(1000, 0);
  const uint64_t before = OpenMpRegionsRunInline();
#pragma omp parallel for num_threads(4)
  for (int i = 0; i < 1000; ++i) ++runs[static_cast<size_t>(i)];
  EXPECT_EQ(OpenMpRegionsRunInline(), before + 1);
#pragma omp parallel for num_threads(4) schedule(dynamic, 7)
  for (int i = 0; i < 1000; ++i) ++dynamic[static_cast<size_t>(i)];
  EXPECT_EQ(OpenMpRegionsRunInline(), before + 1);
  EXPECT_EQ(runs, std::vector<int>(1000, 1));
  EXPECT_EQ(dynamic, std::vector<int>(1000, 1));
}

TEST_F(OcrOpenMpTest, SectionsRunOnceEachInOrderNestedToo) {
  const uint64_t before = OpenMpRegionsRunInline();
  EXPECT_EQ(Sections(), (std::vector<int>{1, 2, 21, 22, 3, 4}));
  EXPECT_EQ(OpenMpRegionsRunInline(), before + 2);
  // A sections construct of one's own between regions is libgomp's, and still works.
  std::vector<int> order;
#pragma omp sections
  {
#pragma omp section
    order.push_back(1);
#pragma omp section
    order.push_back(2);
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST_F(OcrOpenMpTest, SwitchedOffLibgompRunsTheRegions) {
  RunOpenMpRegionsInline(false);
  const uint64_t before = OpenMpRegionsRunInline();
  const Seen seen = InARegion();
  EXPECT_EQ(seen.level, 1);  // in a team of libgomp's
  std::vector<int> order = Sections();
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 21, 22}));
  EXPECT_EQ(OpenMpRegionsRunInline(), before);
}

}  // namespace
}  // namespace scanline
