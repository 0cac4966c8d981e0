// The UCI tables runner: training works, runs are deterministic and independent
// of --jobs, resume after an interruption (in-process and a real SIGKILL of the
// CLI) gives the same table as an uninterrupted run, and malformed CSVs fail
// through the CLI with the file and line.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "adaswarm/data/uci.h"
#include "adaswarm/experiments/uci_tables.h"
#include "adaswarm/util/atomic_file.h"

#include <nlohmann/json.hpp>

using namespace adaswarm::experiments::uci;
namespace fs = std::filesystem;

namespace {
const std::string kDataDir = ADASWARM_DATA_DIR;

fs::path temp_dir(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("adaswarm_test_tables_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TablesConfig small_config() {
  TablesConfig c;
  c.losses = {TableLoss::MSE, TableLoss::MAE};
  c.datasets = uci_sources(kDataDir, {"iris", "wine"});
  c.optimizers = {OptimizerKind::SGD, OptimizerKind::AdaDelta, OptimizerKind::Adam};
  c.seeds = 2;
  c.epochs = 3;
  c.batch_size = 16;
  c.jobs = 1;
  c.progress = false;
  return c;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs a shell command, returns (exit status, stdout + stderr).
std::pair<int, std::string> shell(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return {-1, ""};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int status = ::pclose(f);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

bool same_metrics(const RunResult& a, const RunResult& b) {
  return a.key() == b.key() && a.test_loss == b.test_loss && a.test_acc == b.test_acc &&
         a.train_loss == b.train_loss && a.train_acc == b.train_acc && a.steps == b.steps;
}
}  // namespace

TEST(Tables, AdamLearnsIrisAndTheMetricsAreConsistent) {
  auto c = small_config();
  c.epochs = 40;
  const auto src = uci_sources(kDataDir, {"iris"})[0];
  const auto data = adaswarm::data::load_tabular(src.spec);
  const auto r = run_one(c, src, data, TableLoss::MSE, OptimizerKind::Adam, 1);
  EXPECT_GT(r.test_acc, 85.0);
  EXPECT_GT(r.train_acc, 80.0);
  EXPECT_LT(r.test_loss, 0.1);
  EXPECT_EQ(r.steps, 40 * 8);  // 120 training rows, batch 16
  // a run with no training is near chance: the 40 epochs did the work
  auto c0 = c;
  c0.epochs = 1;
  c0.lr = 0.0;
  EXPECT_LT(run_one(c0, src, data, TableLoss::MSE, OptimizerKind::Adam, 1).test_acc, 70.0);
}

TEST(Tables, RunsAreDeterministicAndIndependentOfJobs) {
  auto c1 = small_config();
  const auto a = run_tables(c1);
  auto c2 = small_config();
  c2.jobs = 2;
  const auto b = run_tables(c2);
  ASSERT_EQ(a.runs.size(), 2u * 2 * 3 * 2);
  ASSERT_EQ(a.runs.size(), b.runs.size());
  for (size_t i = 0; i < a.runs.size(); ++i) EXPECT_TRUE(same_metrics(a.runs[i], b.runs[i])) << a.runs[i].key();
  // different seeds give different splits / weights
  EXPECT_NE(a.runs[0].test_loss, a.runs[1].test_loss);
}

TEST(Tables, ResumeAfterStopGivesTheUninterruptedTable) {
  const auto dir = temp_dir("resume");
  auto full = small_config();
  full.results_path = (dir / "full.jsonl").string();
  const auto ref = run_tables(full);
  const std::string ref_table = format_tables(summarize(ref.runs, full), full);

  auto part = small_config();
  part.results_path = (dir / "part.jsonl").string();
  part.max_runs = 5;
  const auto first = run_tables(part);
  EXPECT_EQ(first.executed, 5);
  EXPECT_EQ(first.remaining, 24 - 5);
  EXPECT_EQ(adaswarm::util::read_complete_lines(part.results_path).size(), 5u);
  // a kill in the middle of an append leaves a torn line: it is ignored
  { std::ofstream(part.results_path, std::ios::app) << "{\"fingerprint\":\"v1;epo"; }
  part.max_runs = -1;
  part.resume = true;
  part.jobs = 2;
  const auto second = run_tables(part);
  EXPECT_EQ(second.resumed, 5);
  EXPECT_EQ(second.executed, 24 - 5);
  EXPECT_EQ(format_tables(summarize(second.runs, part), part), ref_table);
  EXPECT_EQ(adaswarm::util::read_complete_lines(part.results_path).size(), 24u);

  // resuming with other settings is refused, naming the file
  auto other = part;
  other.epochs = 4;
  try {
    run_tables(other);
    ADD_FAILURE() << "resume with other settings must fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("part.jsonl:1:"), std::string::npos) << e.what();
    // the advice names what works: without --resume the existing file is refused too
    EXPECT_NE(std::string(e.what()).find("pass --overwrite to start over, or choose another --out"), std::string::npos)
        << e.what();
  }
}

TEST(Tables, PaperValuesFollowTheColumnOrder) {
  const auto wine = paper_value(TableLoss::MSE, "wine", OptimizerKind::AdaSwarm);
  ASSERT_TRUE(wine);
  EXPECT_DOUBLE_EQ(wine->acc, 93.07);
  EXPECT_DOUBLE_EQ(paper_value(TableLoss::MAE, "sonar", OptimizerKind::SGDSwarm)->acc, 83.65);
  EXPECT_DOUBLE_EQ(paper_value(TableLoss::MSE, "mushroom", OptimizerKind::AdaDelta)->loss, 0.03);
  EXPECT_FALSE(paper_value(TableLoss::BCE, "iris", OptimizerKind::Adam));
  EXPECT_FALSE(paper_value(TableLoss::MSE, "iris", OptimizerKind::AdamIdeal));
  EXPECT_FALSE(paper_value(TableLoss::MSE, "my-csv", OptimizerKind::Adam));
  for (const auto& s : adaswarm::data::uci_registry())
    for (auto l : {TableLoss::MSE, TableLoss::MAE})
      EXPECT_TRUE(paper_value(l, s.key, OptimizerKind::SGD)) << s.key;
}

#ifdef ADASWARM_CLI_PATH
TEST(TablesCli, KilledRunResumesToTheSameTable) {
  const auto dir = temp_dir("cli_kill");
  const std::string cli = ADASWARM_CLI_PATH;
  const std::string common =
      " tables --loss mse --datasets iris,seeds --optimizers sgd,adam,adaswarm,sgd-swarm --seeds 3 --epochs 4 "
      "--jobs 2 --no-progress --data-dir " + kDataDir;
  auto [rc_full, out_full] = shell(cli + common + " --out " + (dir / "full").string());
  ASSERT_EQ(rc_full, 0) << out_full;

  const auto killed = dir / "killed";
  fs::create_directories(killed);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cmd = "exec " + cli + common + " --out " + killed.string() + " >/dev/null 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // wait for k finished runs, then kill -9 (no chance to clean up)
  const auto jsonl = (killed / "runs.jsonl").string();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  size_t seen = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = adaswarm::util::read_complete_lines(jsonl).size();
    if (seen >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_GE(seen, 3u);
  const size_t after_kill = adaswarm::util::read_complete_lines(jsonl).size();
  EXPECT_LT(after_kill, 24u) << "the run finished before the kill; the test proves nothing";

  auto [rc, out] = shell(cli + common + " --out " + killed.string() + " --resume");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(read(killed / "tables.txt"), read(dir / "full" / "tables.txt"));
  EXPECT_EQ(adaswarm::util::read_complete_lines(jsonl).size(), 24u);
  EXPECT_NE(out.find(std::to_string(after_kill) + " resumed"), std::string::npos) << out;
}

TEST(TablesCli, MalformedFilesFailWithFileAndLine) {
  const auto dir = temp_dir("cli_bad");
  const std::string cli = ADASWARM_CLI_PATH;
  struct Case {
    std::string name, content, args, expect;
  };
  const std::vector<Case> cases = {
      {"ragged.csv", "1,2,a\n3,4,b\n5,a\n", "--label-column 2", "ragged.csv:3: ragged row"},
      {"nonnum.csv", "x,y,c\n1,2,a\n3,4,b\n5,zz,a\n", "--label-column c", "nonnum.csv:4: 'zz'"},
      {"missinglabel.csv", "1,2,a\n3,4,\n", "--label-column 2", "missinglabel.csv:2: missing label"},
      {"empty.csv", "", "--label-column 0", "empty.csv: empty file"},
      {"quote.csv", "1,\"2,a\n3,4,b\n", "--label-column 2", "quote.csv:1: unterminated"},
      {"nocol.csv", "x,y,c\n1,2,a\n", "--label-column label", "nocol.csv: no column named 'label'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto path = dir / c.name;
    std::ofstream(path, std::ios::binary) << c.content;
    auto [rc, out] = shell(cli + " tables --csv " + path.string() + " " + c.args + " --seeds 1 --epochs 1 --no-progress --out " +
                           (dir / "out").string());
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("adaswarm: error: "), std::string::npos) << out;
    EXPECT_NE(out.find(c.expect), std::string::npos) << out;
  }
  auto [rc, out] = shell(cli + " tables --csv " + (dir / "absent.csv").string() + " --label-column 0 --out " +
                         (dir / "out").string());
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("absent.csv: cannot open"), std::string::npos) << out;
  // an unknown label in a registry file is reported with its line
  const auto udir = dir / "data";
  fs::create_directories(udir / "uci" / "iris");
  std::ofstream(udir / "uci" / "iris" / "iris.csv") << "5.1,3.5,1.4,0.2,Iris-setosa\n4.9,3.0,1.4,0.2,Iris-typo\n";
  auto [rc2, out2] = shell(cli + " tables --datasets iris --data-dir " + udir.string() + " --out " + (dir / "out").string());
  EXPECT_EQ(rc2, 1);
  EXPECT_NE(out2.find("iris.csv:2: unknown label 'Iris-typo'"), std::string::npos) << out2;
}

TEST(TablesCli, UserCsvByNameWithCategoricalColumns) {
  const auto dir = temp_dir("cli_user");
  const std::string cli = ADASWARM_CLI_PATH;
  std::ostringstream csv;
  csv << "id,\"size, cm\",colour,label\r\n";
  for (int i = 0; i < 60; ++i)
    csv << i << "," << (i % 2 ? 1.0 + 0.01 * i : -1.0 - 0.01 * i) << "," << (i % 3 ? "\"red\"" : "blue") << ","
        << (i % 2 ? "yes" : "no") << "\r\n";
  std::ofstream(dir / "mine.csv", std::ios::binary) << csv.str();
  auto [rc, out] = shell(cli + " tables --csv " + (dir / "mine.csv").string() +
                         " --label-column label --categorical colour --drop id --loss bce --optimizers adam,rmsprop "
                         "--seeds 2 --epochs 20 --no-progress --out " + (dir / "out").string());
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("mine"), std::string::npos) << out;
  const std::string csv_out = read(dir / "out" / "tables.csv");
  EXPECT_NE(csv_out.find("bce,mine,rmsprop,2,"), std::string::npos) << csv_out;
  EXPECT_TRUE(fs::exists(dir / "out" / "tables.json"));
}

TEST(TablesCli, ExistingRunsFileIsRefusedWithoutOverwriteOrResume) {
  const auto dir = temp_dir("cli_overwrite");
  const std::string cli = ADASWARM_CLI_PATH;
  const std::string common = " tables --loss mse --datasets iris --optimizers adam --epochs 1 --jobs 1 "
                             "--no-progress --data-dir " + kDataDir + " --out " + (dir / "o").string();
  auto [rc, out] = shell(cli + common + " --seeds 2");
  ASSERT_EQ(rc, 0) << out;
  const auto runs = (dir / "o" / "runs.jsonl").string();
  ASSERT_EQ(adaswarm::util::read_complete_lines(runs).size(), 2u);
  const std::string before = read(runs);
  auto [rc2, out2] = shell(cli + common + " --seeds 1");
  EXPECT_EQ(rc2, 1) << out2;
  EXPECT_NE(out2.find(runs + " exists"), std::string::npos) << out2;
  EXPECT_NE(out2.find("--overwrite"), std::string::npos) << out2;
  EXPECT_EQ(read(runs), before);  // untouched
  auto [rc3, out3] = shell(cli + common + " --seeds 2 --resume --overwrite");
  EXPECT_EQ(rc3, 1) << out3;
  EXPECT_NE(out3.find("exclude each other"), std::string::npos) << out3;
  auto [rc4, out4] = shell(cli + common + " --seeds 1 --overwrite");
  ASSERT_EQ(rc4, 0) << out4;
  EXPECT_EQ(adaswarm::util::read_complete_lines(runs).size(), 1u);
}

TEST(TablesCli, BadOptionsNameTheOption) {
  const auto dir = temp_dir("cli_options");
  const std::string cli = ADASWARM_CLI_PATH;
  std::ofstream(dir / "d.csv") << "a,b,c\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n";
  const std::string iris = " tables --datasets iris --optimizers adam --seeds 1 --epochs 1 --no-progress --data-dir " +
                           kDataDir + " --out " + (dir / "o").string();
  const std::string csv = " tables --csv " + (dir / "d.csv").string() + " --optimizers adam --seeds 1 --epochs 1 "
                          "--no-progress --out " + (dir / "o").string();
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases = {
      {iris + " --lr inf", "--lr: expected a finite number in (0, 1000000], got 'inf'"},
      {iris + " --lr -0.1", "--lr: expected a finite number in (0, 1000000], got '-0.1'"},
      {iris + " --lr nan", "--lr: expected a finite number in (0, 1000000], got 'nan'"},
      {iris + " --lr 1e400", "--lr: expected a finite number in (0, 1000000], got '1e400'"},
      {iris + " --seeds 1001", "--seeds: expected an integer in [1, 1000], got 1001"},
      {iris + " --activation gelu", "--activation"},
      {iris + " --jobs -1", "--jobs"},
      {iris + " --first-seed -1", "--first-seed"},
      {iris + " --batch-size 99999999999999999999", "--batch-size"},
      {iris + " --seeds abc", "--seeds"},
      {iris + " --test-fraction 1", "--test-fraction"},
      {iris + " --label-column 2", "--label-column only applies with --csv"},
      {iris + " --name x", "--name only applies with --csv"},
      {iris + " --drop 1", "--drop only applies with --csv"},
      {" tables --datasets iris,iris --data-dir " + kDataDir + " --out " + (dir / "o").string(),
       "--datasets: 'iris' is given twice"},
      {csv + " --label-column 2 --header --no-header", "--header and --no-header exclude each other"},
      {csv + " --label-column 2 --drop 2", "is the label; it cannot also be dropped"},
      {csv + " --label-column 99999999999999999999999", "--label-column 99999999999999999999999: column index"},
      {" tables --csv " + dir.string() + " --label-column 0 --out " + (dir / "o").string(), "is a directory"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    auto [rc, out] = shell(cli + c.args);
    EXPECT_NE(rc, 0) << out;
    EXPECT_NE(out.find(c.expect), std::string::npos) << out;
    EXPECT_EQ(out.find("stoll"), std::string::npos) << out;
    EXPECT_EQ(out.find("empty file"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(dir / "o" / "runs.jsonl"));
  }
}
#endif

// A kept runs line with a field missing or of the wrong type escaped as
// nlohmann's out_of_range / type_error, naming neither file nor line; a
// diverged run's NaN (written as null) could not be read back at all.
TEST(Tables, MalformedKeptRunIsNamedByFileAndLineAndNullIsNaN) {
  const auto dir = temp_dir("malformed");
  auto c = small_config();
  c.losses = {TableLoss::MSE};
  c.datasets = uci_sources(kDataDir, {"iris"});
  c.optimizers = {OptimizerKind::Adam};
  c.seeds = 1;
  c.results_path = (dir / "runs.jsonl").string();
  run_tables(c);
  const auto lines = adaswarm::util::read_complete_lines(c.results_path);
  ASSERT_EQ(lines.size(), 1u);
  auto j = nlohmann::json::parse(lines[0]);
  c.resume = true;
  auto with = [&](const nlohmann::json& line) {
    adaswarm::util::write_file_atomic(c.results_path, line.dump() + "\n");
  };
  auto missing = j;
  missing.erase("seed");
  auto mistyped = j;
  mistyped["test_acc"] = "high";
  // Out of range, or not an integer: refused, naming the field (not put into the tables).
  auto accuracy = j;
  accuracy["test_acc"] = 250.0;
  auto steps = j;
  steps["steps"] = -3;
  auto epochs = j;
  epochs["epochs"] = 1.5;
  auto seed = j;
  seed["seed"] = -1;
  auto lr = j;
  lr["lr"] = nullptr;
  for (const auto& [bad, reason] :
       {std::pair{missing, std::string("'seed' not found")},
        std::pair{mistyped, std::string("'test_acc' must be a number or null, got \"high\"")},
        std::pair{accuracy, std::string("'test_acc' must be in [0, 100], got 250")},
        std::pair{steps, std::string("'steps' must be >= 0, got -3")},
        std::pair{epochs, std::string("'epochs' must be an integer, got 1.5")},
        std::pair{seed, std::string("'seed' must be an integer >= 0, got -1")},
        std::pair{lr, std::string("'lr' must be a number, got null")}}) {
    with(bad);
    try {
      run_tables(c);
      ADD_FAILURE() << "resumed from " << bad.dump();
    } catch (const std::runtime_error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(c.results_path + ":1: a finished run's record is malformed"), std::string::npos) << m;
      EXPECT_NE(m.find(reason), std::string::npos) << m;
      EXPECT_EQ(m.find("json.exception"), std::string::npos) << m;
    }
  }
  auto diverged = j;
  diverged["test_loss"] = nullptr;  // what nlohmann writes for NaN
  with(diverged);
  const auto out = run_tables(c);
  EXPECT_EQ(out.resumed, 1);
  EXPECT_EQ(out.executed, 0);
  ASSERT_EQ(out.runs.size(), 1u);
  EXPECT_TRUE(std::isnan(out.runs[0].test_loss));
  EXPECT_EQ(out.runs[0].test_acc, j["test_acc"].get<double>());
}
