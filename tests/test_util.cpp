// util: Progress (what it prints on a log stream and on a terminal, resumed
// counts, clearing, the duration format) and the allocator settings.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

#include <malloc.h>

#include "adaswarm/util/allocator.h"
#include "adaswarm/util/progress.h"

using adaswarm::util::Progress;

namespace {
int count(const std::string& s, const std::string& needle) {
  int n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(Progress, LogStreamGetsOneLinePerDrawAndAFinalLine) {
  std::ostringstream os;
  {
    Progress bar(4, "runs", &os, /*terminal=*/false, /*log_interval_s=*/0.0);
    bar.advance(1, "iris/adam");
    bar.advance(2, "wine/sgd");
    EXPECT_EQ(bar.done(), 3);
    bar.advance(5);  // never past the total
    EXPECT_EQ(bar.done(), 4);
    bar.finish();
    bar.finish();  // once only
  }                // nor again from the destructor
  const std::string out = os.str();
  EXPECT_EQ(count(out, "\n"), 4) << out;
  EXPECT_EQ(count(out, "\r"), 0);
  EXPECT_NE(out.find("runs [#######.....................] 1/4  25%"), std::string::npos) << out;
  EXPECT_NE(out.find("3/4  75%"), std::string::npos);
  EXPECT_NE(out.find("iris/adam"), std::string::npos);
  EXPECT_NE(out.find("wine/sgd"), std::string::npos);
  EXPECT_NE(out.find("4/4 100%"), std::string::npos);
}

TEST(Progress, LogStreamIsThrottled) {
  std::ostringstream os;
  Progress bar(100, "x", &os, false, /*log_interval_s=*/3600.0);
  for (int i = 0; i < 100; ++i) bar.advance(1);
  bar.finish();
  EXPECT_EQ(count(os.str(), "\n"), 2) << os.str();  // the first draw and the final line
}

TEST(Progress, TerminalRedrawsOneLineAndClearErasesIt) {
  std::ostringstream os;
  {
    Progress bar(10, "epoch 2/3", &os, /*terminal=*/true);
    bar.resume_from(6);
    bar.advance(1, "loss 0.5");
    EXPECT_EQ(bar.done(), 7);
    bar.clear();
    bar.advance(1, "after clear");
    bar.finish();
  }
  const std::string out = os.str();
  EXPECT_EQ(count(out, "\n"), 0) << out;  // no final line after clear()
  EXPECT_NE(out.find("\repoch 2/3 ["), std::string::npos) << out;
  EXPECT_NE(out.find("7/10"), std::string::npos);
  EXPECT_EQ(out.find("ETA --"), std::string::npos) << "resumed items must not count towards the rate: " << out;
  EXPECT_EQ(out.find("after clear"), std::string::npos);
  const auto erase = out.rfind('\r', out.size() - 2);
  ASSERT_NE(erase, std::string::npos);
  EXPECT_EQ(out.back(), '\r');
  EXPECT_EQ(out.substr(erase + 1, out.size() - erase - 2).find_first_not_of(' '), std::string::npos);
}

TEST(Progress, DisabledPrintsNothing) {
  Progress bar(3, "quiet", static_cast<std::ostream*>(nullptr), true);
  bar.advance(3);
  bar.finish();
  EXPECT_EQ(bar.done(), 3);
}

TEST(Progress, DurationFormat) {
  EXPECT_EQ(Progress::format_duration(12.4), "12s");
  EXPECT_EQ(Progress::format_duration(187), "3m07s");
  EXPECT_EQ(Progress::format_duration(3723), "1h02m");
  EXPECT_EQ(Progress::format_duration(NAN), "--");
  EXPECT_EQ(Progress::format_duration(-1), "--");
}

// glibc accepts the settings; afterwards a 64 MiB block comes from the heap
// (no new mmap), which mallinfo2 shows as heap growth, not as mmapped bytes.
TEST(Allocator, LargeBlocksStayInTheHeap) {
  ASSERT_TRUE(adaswarm::util::tune_malloc_for_training());
  const auto before = mallinfo2();
  void* p = std::malloc(64u << 20);
  ASSERT_NE(p, nullptr);
  static_cast<volatile char*>(p)[0] = 1;  // keep the allocation
  const auto during = mallinfo2();
  EXPECT_EQ(during.hblkhd, before.hblkhd) << "the block was mmapped";
  std::free(p);
}
