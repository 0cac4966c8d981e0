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
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's malloc: mallopt has no effect (docs/hardening.md)";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's malloc: mallopt has no effect (docs/hardening.md)";
#endif
#endif
  ASSERT_TRUE(adaswarm::util::tune_malloc_for_training());
  const auto before = mallinfo2();
  void* p = std::malloc(64u << 20);
  ASSERT_NE(p, nullptr);
  static_cast<volatile char*>(p)[0] = 1;  // keep the allocation
  const auto during = mallinfo2();
  EXPECT_EQ(during.hblkhd, before.hblkhd) << "the block was mmapped";
  std::free(p);
}

// ---- util/atomic_file.h: never rename over a non-regular file --------------------
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <chrono>
#include <thread>
#include <utility>

#include "adaswarm/util/atomic_file.h"
#include "expect_error.h"
#include "temp_dir.h"

namespace {
namespace fs = std::filesystem;
using adaswarm::testing::TempDir;
using adaswarm::testing::expect_error;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
bool is_symlink(const std::string& p) { return fs::is_symlink(fs::symlink_status(p)); }
size_t tmp_files(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().find(".tmp") != std::string::npos;
  return n;
}
}  // namespace

TEST(AtomicFile, SymlinkStaysALinkAndItsTargetGetsTheContent) {
  TempDir d;
  fs::create_directories(d / "real");
  { std::ofstream(d / "real/t.csv") << "old\n"; }
  fs::create_symlink(d / "real/t.csv", d / "link.csv");        // absolute
  fs::create_symlink("real/t.csv", d / "rel.csv");             // relative to the link's folder
  adaswarm::util::write_file_atomic(d / "link.csv", "new\n");
  EXPECT_TRUE(is_symlink(d / "link.csv"));
  EXPECT_EQ(slurp(d / "real/t.csv"), "new\n");
  adaswarm::util::write_file_atomic(d / "rel.csv", "newer\n");
  EXPECT_TRUE(is_symlink(d / "rel.csv"));
  EXPECT_EQ(slurp(d / "real/t.csv"), "newer\n");
  // a chain of links, and a dangling link: its target is created
  fs::create_symlink(d / "link.csv", d / "chain.csv");
  adaswarm::util::write_file_atomic(d / "chain.csv", "chained\n");
  EXPECT_TRUE(is_symlink(d / "chain.csv"));
  EXPECT_EQ(slurp(d / "real/t.csv"), "chained\n");
  fs::create_symlink("real/new.csv", d / "dangling.csv");
  adaswarm::util::write_file_atomic(d / "dangling.csv", "created\n");
  EXPECT_TRUE(is_symlink(d / "dangling.csv"));
  EXPECT_EQ(slurp(d / "real/new.csv"), "created\n");
  EXPECT_EQ(tmp_files(d.str()), 0u);
  EXPECT_EQ(tmp_files(d / "real"), 0u);
}

TEST(AtomicFile, DeviceBehindASymlinkIsWrittenInPlace) {
  // Only through a link in a temporary folder: code that renamed over the path
  // replaces the link (the test fails), never the device itself.
  struct stat before {}, after {};
  ASSERT_EQ(::stat("/dev/null", &before), 0);
  TempDir d;
  fs::create_symlink("/dev/null", d / "out.csv");
  adaswarm::util::write_file_atomic(d / "out.csv", "discarded\n");
  EXPECT_TRUE(is_symlink(d / "out.csv"));
  EXPECT_EQ(tmp_files(d.str()), 0u);
  ASSERT_EQ(::stat((d / "out.csv").c_str(), &after), 0);
  EXPECT_TRUE(S_ISCHR(after.st_mode));
  EXPECT_EQ(before.st_rdev, after.st_rdev);
  adaswarm::util::append_line(d / "out.csv", "appended");  // no fsync error on a device
}

TEST(AtomicFile, FifoIsWrittenToItsReaderAndStaysAFifo) {
  TempDir d;
  const std::string fifo = d / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The read end is opened first (non-blocking, so the test never hangs): the
  // writer's open then finds its reader, and the short content fits the pipe.
  const int rfd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(rfd, 0);
  adaswarm::util::write_file_atomic(fifo, "through the pipe\n");
  char buf[256];
  const ssize_t n = ::read(rfd, buf, sizeof buf);
  ::close(rfd);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "through the pipe\n");
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(tmp_files(d.str()), 0u);
}

TEST(AtomicFile, DirectoryIsRefusedNamingThePath) {
  TempDir d;
  fs::create_directories(d / "sub");
  try {
    adaswarm::util::write_file_atomic(d / "sub", "x");
    FAIL() << "wrote over a directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(d / "sub"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("directory"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_directory(d / "sub"));
  EXPECT_EQ(tmp_files(d.str()), 0u);
}

TEST(AtomicFile, FullDeviceGivesTheOsReason) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir d;
  fs::create_symlink("/dev/full", d / "full.csv");
  try {
    adaswarm::util::write_file_atomic(d / "full.csv", "x\n");
    FAIL() << "a write to /dev/full succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("full.csv"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(is_symlink(d / "full.csv"));
}

TEST(AtomicFile, FileSetIsWrittenAllOrNone) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir d;
  { std::ofstream(d / "a.csv") << "old a\n"; }
  fs::create_symlink("/dev/full", d / "c.json");
  EXPECT_THROW(adaswarm::util::write_files_atomic({{d / "a.csv", "new a\n"}, {d / "b.csv", "new b\n"},
                                                   {d / "c.json", "new c\n"}}),
               std::runtime_error);
  EXPECT_EQ(slurp(d / "a.csv"), "old a\n");  // not replaced
  EXPECT_FALSE(fs::exists(d / "b.csv"));     // not created
  EXPECT_EQ(tmp_files(d.str()), 0u);         // no staged file left
  fs::remove(d / "c.json");
  adaswarm::util::write_files_atomic({{d / "a.csv", "new a\n"}, {d / "b.csv", "new b\n"}, {d / "c.json", "c\n"}});
  EXPECT_EQ(slurp(d / "a.csv"), "new a\n");
  EXPECT_EQ(slurp(d / "b.csv"), "new b\n");
  EXPECT_EQ(slurp(d / "c.json"), "c\n");
}

TEST(AtomicFile, CheckOutputsRefusesResultsAndFoldersButNotNewFilesOrDevices) {
  namespace u = adaswarm::util;
  TempDir d;
  { std::ofstream(d / "old.csv") << "kept\n"; }
  fs::create_directories(d / "folder");
  fs::create_symlink(d / "old.csv", d / "link.csv");
  fs::create_symlink(d / "nowhere.csv", d / "dangling.csv");
  u::check_outputs({d / "new.csv", d / "dangling.csv", "/dev/null"}, false, "HINT");  // nothing to lose
  expect_error<std::runtime_error>([&] { u::check_outputs({d / "new.csv", d / "old.csv"}, false, "pass --overwrite"); },
                                   "'" + d / "old.csv" + "' exists: pass --overwrite");
  expect_error<std::runtime_error>([&] { u::check_outputs({d / "link.csv"}, false, "HINT"); },
                                   "'" + d / "link.csv" + "' exists: HINT");  // through a link too
  u::check_outputs({d / "old.csv", d / "link.csv"}, true, "HINT");  // asked to replace
  expect_error<std::runtime_error>([&] { u::check_outputs({d / "folder"}, true, "HINT"); },
                                   "'" + d / "folder" + "' is a directory, not a file");
  EXPECT_EQ(slurp(d / "old.csv"), "kept\n");
}

#ifdef ADASWARM_CLI_PATH
namespace {
struct CliRun {
  int code;
  std::string out;
};
CliRun cli(const std::string& args) {
  const std::string cmd = std::string(ADASWARM_CLI_PATH) + " " + args + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int rc = ::pclose(f);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}
}  // namespace

TEST(AtomicFileCli, Fig1ThroughASymlinkAndToDevNull) {
  TempDir d;
  fs::create_directories(d / "real");
  { std::ofstream(d / "real/fig1.csv") << "old\n"; }
  fs::create_symlink(d / "real/fig1.csv", d / "fig1.csv");
  auto r = cli("functions --table none --fig1-points 3 --fig1 " + d / "fig1.csv");
  EXPECT_EQ(r.code, 1) << r.out;  // a result is there: kept unless asked
  EXPECT_EQ(slurp(d / "real/fig1.csv"), "old\n");
  r = cli("functions --table none --fig1-points 3 --overwrite --fig1 " + d / "fig1.csv");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(is_symlink(d / "fig1.csv"));
  EXPECT_NE(slurp(d / "real/fig1.csv").find("x"), std::string::npos);
  EXPECT_NE(slurp(d / "real/fig1.csv"), "old\n");
  fs::create_symlink("/dev/null", d / "null.csv");  // a device, through a link in our folder
  r = cli("functions --table none --fig1-points 3 --fig1 " + d / "null.csv");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(is_symlink(d / "null.csv"));
  EXPECT_EQ(tmp_files(d.str()), 0u);
}

TEST(AtomicFileCli, FullDiskReasonForCsvDirAndPgsoBenchAllOrNone) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir d;
  fs::create_directories(d / "csv");
  fs::create_symlink("/dev/full", d / "csv/table1.csv");
  auto r = cli("functions --table 1 --runs 0 --csv-dir " + d / "csv");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("table1.csv"), std::string::npos) << r.out;
  EXPECT_TRUE(is_symlink(d / "csv/table1.csv"));

  fs::create_directories(d / "bench");
  fs::create_symlink("/dev/full", d / "bench/summary.json");
  const std::string bench = "pgso bench --algorithms pso --functions sphere --dims 2 --runs 1 --iterations 5 --out ";
  r = cli(bench + d / "bench");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(d / "bench/runs.csv"));  // none of the set
  EXPECT_FALSE(fs::exists(d / "bench/convergence.csv"));
  EXPECT_TRUE(is_symlink(d / "bench/summary.json"));
  EXPECT_EQ(tmp_files(d / "bench"), 0u);
  fs::remove(d / "bench/summary.json");
  r = cli(bench + d / "bench");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"runs.csv", "convergence.csv", "summary.json"}) EXPECT_TRUE(fs::exists(d / (std::string("bench/") + f))) << f;
}

// Every command that writes results keeps those already there unless asked
// (--overwrite), and says so before any work; a folder in a file's place is named.
TEST(AtomicFileCli, ExistingResultsAreKeptUnlessOverwriteIsGiven) {
  TempDir d;
  {
    std::ofstream f(d / "data.csv");
    f << "a,b,y\n";
    for (int i = 0; i < 24; ++i) f << i * 0.1 << "," << (i % 5) * 0.3 << "," << (i % 2) << "\n";
  }
  struct Case {
    std::string args;   // without --out / --overwrite
    std::string out;    // the option naming where results go, with its value
    std::string file;   // one result file it writes
  };
  const std::vector<Case> cases{
      {"functions --table none --fig1-points 3", "--fig1 " + d / "f/fig1.csv", d / "f/fig1.csv"},
      {"functions --table 1 --runs 0 --grid 101", "--csv-dir " + d / "t", d / "t/table1.csv"},
      {"pgso bench --algorithms pso --functions sphere --dims 2 --runs 1 --iterations 5", "--out " + d / "b",
       d / "b/runs.csv"},
      {"pgso scaling --function sphere --dim 2 --subswarms 2 --particles 2 --iterations 2 --runs 1 --seconds 0.05 "
       "--threads 1",
       "--out " + d / "s", d / "s/scaling.json"},
      {"pgso train --dataset " + d / "data.csv" + " --algorithms pso --epochs 1 --particles 4 --iterations 2 "
           "--subswarms 1 --batch 8 --hidden 2",
       "--out " + d / "w", d / "w/train.json"}};
  for (const auto& c : cases) {
    auto r = cli(c.args + " " + c.out);
    ASSERT_EQ(r.code, 0) << c.args << "\n" << r.out;
    ASSERT_TRUE(fs::is_regular_file(c.file)) << c.file;
    { std::ofstream(c.file) << "earlier result\n"; }
    r = cli(c.args + " " + c.out);
    EXPECT_EQ(r.code, 1) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find("'" + c.file + "' exists: pass --overwrite"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("wrote"), std::string::npos) << r.out;  // refused before any work
    EXPECT_EQ(slurp(c.file), "earlier result\n") << c.args;
    r = cli(c.args + " --overwrite " + c.out);
    ASSERT_EQ(r.code, 0) << c.args << "\n" << r.out;
    EXPECT_NE(slurp(c.file), "earlier result\n") << c.args;
    fs::remove(c.file);
    fs::create_directories(c.file);
    r = cli(c.args + " --overwrite " + c.out);
    EXPECT_EQ(r.code, 1) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find("'" + c.file + "' is a directory, not a file"), std::string::npos) << r.out;
  }
}

TEST(CliOptions, UnknownCommandAndOutOfRangeValuesNameWhatWasExpected) {
  auto r = cli("foo");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("unknown command 'foo'"), std::string::npos) << r.out;
  for (const char* sub : {"functions", "tables", "train", "pgso"}) EXPECT_NE(r.out.find(sub), std::string::npos) << r.out;
  TempDir d;
  const std::string out = " --out " + d / "o";
  for (const auto& [args, expect] : std::vector<std::pair<std::string, std::string>>{
           {"functions --table none --seed -1", "--seed"},
           {"pgso bench --seed -1" + out, "--seed"},
           {"pgso bench --threads -1" + out, "--threads"},
           {"pgso bench --threads 100000000" + out, "--threads"},
           {"pgso train --threads -1" + out, "--threads"},
           {"pgso bench --runs abc" + out, "--runs: expected an integer in [1, 100000], got 'abc'"},
           {"pgso bench --algorithms pso --functions sphere --dims 99999999999" + out, "--dims 99999999999"},
           {"pgso bench --algorithms pso --functions rotated_rastrigin --dims 1000000" + out, "--dims 1000000"},
           // a given --data-dir without the files was passed over for the shipped folder
           {"pgso train --dataset nba --epochs 1 --data-dir " + d / "nodata" + out,
            "--data-dir '" + d / "nodata" + "' holds neither"}}) {
    SCOPED_TRACE(args);
    const auto t0 = std::chrono::steady_clock::now();
    r = cli(args);
    EXPECT_NE(r.code, 0) << r.out;
    EXPECT_NE(r.out.find(expect), std::string::npos) << r.out;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));  // refused, not attempted
    EXPECT_EQ(r.out.find("18446744073709551615"), std::string::npos) << r.out;
  }
}

namespace {
// Each case: refused (non-zero exit) at once, with the expected text (the
// option's name first), never a saturated or 309-digit number.
void expect_refused(const std::vector<std::pair<std::string, std::string>>& cases) {
  for (const auto& [args, expect] : cases) {
    SCOPED_TRACE(args);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = cli(args);
    EXPECT_NE(r.code, 0) << r.out;
    EXPECT_NE(r.out.find(expect), std::string::npos) << r.out;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));  // refused, not attempted
    EXPECT_EQ(r.out.find("9223372036854775807"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("0000000000000000000000000000"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Exception raised from"), std::string::npos) << r.out;
  }
}
}  // namespace

TEST(CliOptions, NonFiniteEmptyAndMalformedNumbersAreRefusedNamingTheOption) {
  TempDir d;
  const std::string out = " --out " + d / "o";
  const std::string fn = "functions --table none ";
  const std::string fid = "fidelity --no-progress --out " + d / "f.csv" + " ";
  expect_refused({
      {"pgso scaling --seconds inf" + out, "--seconds: expected a finite number in (0, 86400], got 'inf'"},
      {"pgso scaling --seconds 0" + out, "--seconds: expected a finite number in (0, 86400], got '0'"},
      {"pgso train --adam-lr inf" + out, "--adam-lr: expected a finite number in (0, 1000000], got 'inf'"},
      {"pgso train --bound inf" + out, "--bound: expected a finite number in (0, 1000000], got 'inf'"},
      {"pgso train --bound 1e400" + out, "--bound: expected a finite number in (0, 1000000], got '1e400'"},
      {"pgso train --init-scale nan" + out, "--init-scale: expected a finite number"},
      {"pgso train --test-fraction 1" + out, "--test-fraction: expected a finite number in (0, 1), got '1'"},
      {"pgso bench --dist-timeout nan" + out, "--dist-timeout: expected a finite number in (0, 86400], got 'nan'"},
      {"pgso train --dist-timeout nan" + out, "--dist-timeout: expected a finite number in (0, 86400], got 'nan'"},
      {"pgso scaling --dist-timeout nan" + out, "--dist-timeout: expected a finite number in (0, 86400], got 'nan'"},
      {fn + "--tolerance inf", "--tolerance: expected a finite number in [0, 1000000], got 'inf'"},
      {fn + "--hit-tolerance inf", "--hit-tolerance: expected a finite number in [0, 1000000], got 'inf'"},
      {fn + "--c1 ''", "--c1: expected a finite number in [0, 1000000], got ''"},
      {fn + "--c2 abc", "--c2: expected a finite number in [0, 1000000], got 'abc'"},
      {fn + "--eta 0.1x", "--eta: expected a finite number in (0, 1000000], got '0.1x'"},
      {fn + "--eta ' 0.1'", "--eta: expected a finite number in (0, 1000000], got ' 0.1'"},
      {fn + "--beta 1", "--beta: expected a finite number in [0, 1), got '1'"},
      {fn + "--radius -inf", "--radius: expected a finite number in (0, 1000000], got '-inf'"},
      {"train --lr 1e400", "--lr: expected a finite number in (0, 1000000], got '1e400'"},
      {"train --dist-timeout 1e400", "--dist-timeout: expected a finite number in (0, 86400], got '1e400'"},
      {"train --momentum ''", "--momentum: expected a finite number in [0, 1), got ''"},
      {"train --weight-decay inf", "--weight-decay: expected a finite number in [0, 1000000], got 'inf'"},
      {"tables --test-fraction nan" + out, "--test-fraction: expected a finite number in (0, 1), got 'nan'"},
      {fid + "--spans ''", "--spans: expected a comma list, each a finite number in [0, 1000000], got ''"},
      {fid + "--spans 0,,1", "--spans: expected a comma list, each a finite number in [0, 1000000], got an empty item "
                             "in '0,,1'"},
      {fid + "--spans 0,x", "--spans: expected a finite number in [0, 1000000], got 'x'"},
      {fid + "--spans 0,inf", "--spans: expected a finite number in [0, 1000000], got 'inf'"},
      {fid + "--zo-step inf", "--zo-step: expected a finite number in (0, 1000000], got 'inf'"},
  });
  EXPECT_FALSE(fs::exists(d / "f.csv"));
  // In range, in any spelling strtod reads: accepted (the settings are printed with them).
  const auto r = cli(fn + "--runs 0 --c1 1.5e0 --c2 0 --beta 0.5 --tolerance 0 --hit-tolerance 2 --eta 1e-2");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("c1 1.5, c2 0, beta 0.5"), std::string::npos) << r.out;
}

TEST(CliOptions, HugeEmptyAndOutOfRangeIntegersAreRefusedNamingTheOption) {
  TempDir d;
  const std::string out = " --out " + d / "o";
  const std::string fn = "functions --table none ";
  const std::string fid = "fidelity --no-progress --out " + d / "f.csv" + " ";
  const std::string huge = " 99999999999999999999";
  std::vector<std::pair<std::string, std::string>> cases = {
      {fn + "--runs" + huge, "--runs: expected an integer in [0, 100000], got 99999999999999999999"},
      {fn + "--runs ''", "--runs: expected an integer in [0, 100000], got ''"},
      {"tables --seeds 1001" + out, "--seeds: expected an integer in [1, 1000], got 1001"},
      {"train --threads ''", "--threads: expected an integer in [0, "},
      {"pgso scaling --threads ''" + out, "--threads: expected a comma list, each an integer in [1, "},
      {"pgso scaling --threads 1,,2" + out, "got an empty item in '1,,2'"},
      {"pgso scaling --threads 1,x" + out, "--threads: expected an integer in [1, "},
      {"pgso scaling --threads 1,100000" + out, "got 100000"},
      {"pgso train --epochs 1,," + out, "--epochs: expected a comma list, each an integer in [1, 1000000], got an empty item in '1,,'"},
      {"pgso train --epochs 1," + huge.substr(1) + out, "--epochs: expected an integer in [1, 1000000], got 9999"},
      {"fidelity --no-progress --threads ''", "--threads: expected an integer in [0, "},
      {"usecases --no-progress --jobs ''" + out, "--jobs: expected an integer in [1, "},
      {"usecases --no-progress --tasks step,step" + out, "--tasks: 'step' is given twice"},
      {"usecases --no-progress --arms adam,adam" + out, "--arms: 'adam' is given twice"},
      {"pgso train --label Exited" + out, "--label applies to a CSV dataset only; the churn set's label column is fixed"},
      {"pgso train --dataset nba --label x" + out, "--label applies to a CSV dataset only"},
  };
  for (const char* o : {"--runs", "--max-iterations", "--grid", "--patience", "--swarm-iterations", "--fig1-points",
                        "--particles"})
    cases.push_back({fn + o + huge, std::string(o) + ": expected an integer in ["});
  cases.push_back({"pgso bench --log-every" + huge + out, "--log-every: expected an integer in [1, "});
  for (const char* o : {"--iterations", "--subswarms", "--batch", "--adam-epochs", "--adam-batch", "--particles",
                        "--hidden"})
    cases.push_back({"pgso train " + std::string(o) + huge + out, std::string(o) + ": expected an integer in [1, "});
  for (const char* o : {"--dim", "--subswarms", "--runs", "--particles", "--iterations"})
    cases.push_back({"pgso scaling " + std::string(o) + huge + out, std::string(o) + ": expected an integer in [1, "});
  for (const char* o : {"--particles", "--iterations", "--mlp-batch", "--mlp-epochs", "--cnn-batch", "--cnn-steps"})
    cases.push_back({fid + o + huge, std::string(o) + ": expected an integer in ["});
  cases.push_back({fid + "--particles 10,,40", "--particles: expected a comma list, each an integer in [1, 100000], got "
                                               "an empty item in '10,,40'"});
  cases.push_back({"train --mlp-hidden" + huge, "--mlp-hidden: expected an integer in [1, 65536]"});
  cases.push_back({"train --mlp-hidden 100000", "--mlp-hidden: expected an integer in [1, 65536], got 100000"});
  expect_refused(cases);
  EXPECT_FALSE(fs::exists(d / "f.csv"));
}

TEST(CliOptions, Fig1PointsIsCheckedBeforeTheTablesRun) {
  TempDir d;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = cli("functions --table all --fig1-points 1 --fig1 " + d / "fig1.csv");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("--fig1-points: expected an integer in [2, 1000000], got 1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Table I"), std::string::npos) << r.out;  // nothing computed first
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_FALSE(fs::exists(d / "fig1.csv"));
  r = cli("functions --table none --fig1-points 2 --fig1 " + d / "fig1.csv");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(d / "fig1.csv"));
}
#endif
