// Data-parallel `adaswarm train` (experiments/trainer.h with a process group): two
// ranks on 127.0.0.1 (dist_launch.h) against one process, rank-0-only writing,
// resume at the same world size, refusal at another, and the CLI under
// scripts/launch-local.sh.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "adaswarm/dist/dist.h"
#include "adaswarm/experiments/trainer.h"
#include "dist_launch.h"
#include "temp_dir.h"

namespace dist = adaswarm::dist;
namespace ex = adaswarm::experiments;
namespace fs = std::filesystem;
using adaswarm::testing::Launch;
using adaswarm::testing::outputs;
using adaswarm::testing::run_ranks;
using adaswarm::testing::TempDir;

namespace {

const std::string kShared = ADASWARM_SHARED_DATA;

#define SKIP_UNLESS_WORKER() \
  if (!adaswarm::testing::is_worker()) GTEST_SKIP() << "a rank of a DistTrain test, started by it"
#define SKIP_UNLESS_READY()                                                                              \
  if (!dist::available()) GTEST_SKIP() << "built without the distributed module (ADASWARM_DIST)";       \
  if (!fs::exists(kShared + "/mnist/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "no MNIST in " << kShared

std::string env_or(const char* name, const std::string& dflt) {
  const char* v = std::getenv(name);
  return v ? v : dflt;
}

/// 200 MNIST training images in batches of 50 (4 steps an epoch), 2 epochs, an MLP.
ex::TrainConfig small_config(const std::string& optimizer) {
  ex::TrainConfig c;
  c.model = "mlp";
  c.mlp_hidden = 32;
  c.dataset = "mnist";
  c.data_dir = kShared + "/mnist";
  c.optimizer = optimizer;
  c.loss = "ce";
  c.epochs = 2;
  c.batch_size = 50;
  c.lr = 2e-3;
  c.seed = 5;
  c.threads = 1;
  c.train_limit = 200;
  c.test_limit = 100;
  c.progress = false;
  c.handle_sigint = false;
  return c;
}

std::vector<torch::Tensor> parameters_of(torch::nn::Module& m) {
  std::vector<torch::Tensor> v;
  for (const auto& p : m.parameters()) v.push_back(p.detach().clone());
  return v;
}

std::vector<torch::Tensor> load_tensors(const std::string& path) {
  std::vector<torch::Tensor> v;
  torch::load(v, path);
  return v;
}

int count_lines(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  int n = 0;
  while (std::getline(f, line)) n += !line.empty();
  return n;
}

// ------------------------------------------------------------------ worker

// TEST_OPT optimizer; TEST_CKPT checkpoint dir; TEST_LOG log; TEST_STOP=1: rank 0
// alone asks to stop after batch 2 of epoch 1; TEST_RESUME=1.
TEST(DistTrainWorker, Train) {
  SKIP_UNLESS_WORKER();
  auto c = small_config(env_or("TEST_OPT", "adam"));
  c.checkpoint_dir = env_or("TEST_CKPT", "");
  c.log_path = env_or("TEST_LOG", "");
  c.resume = env_or("TEST_RESUME", "") == "1";
  c.dist_timeout = 60;
  const int rank = std::atoi(env_or("RANK", "0").c_str());
  if (rank == 1 && !env_or("TEST_RANK1_SEED", "").empty()) c.seed = std::stoull(env_or("TEST_RANK1_SEED", ""));
  if (rank == 1 && env_or("TEST_RANK1_RESUME", "") == "1") c.resume = true;
  const bool stop = env_or("TEST_STOP", "") == "1";
  if (stop)
    c.on_batch = [rank](int64_t e, int64_t b) {
      if (rank == 0 && e == 0 && b == 1) ex::request_stop();
    };
  std::ostringstream out;
  ex::Trainer t(c, &out, nullptr);
  ASSERT_EQ(t.world_size(), 2);
  const auto s = t.run();
  EXPECT_EQ(s.interrupted, stop);
  if (rank > 0) EXPECT_TRUE(out.str().empty()) << "rank " << rank << " printed: " << out.str();
  auto p = parameters_of(t.model());
  torch::save(p, adaswarm::testing::worker_out() + "/model" + std::to_string(rank) + ".pt");
}

// A rank for scripts/launch-local.sh's Ctrl-C: writes ready<RANK>, waits for
// SIGINT (installed with sigaction: the script's ranks start with SIGINT
// ignored, as every background job of a script), takes 0.5 s to "save", then
// writes stopped<RANK> and exits 0.
volatile std::sig_atomic_t g_sigint = 0;
TEST(DistTrainWorker, WaitForSigint) {
  SKIP_UNLESS_WORKER();
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_sigint = 1; };
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGINT, &sa, nullptr), 0);
  const std::string out = adaswarm::testing::worker_out(), rank = env_or("RANK", "?");
  std::ofstream(out + "/ready" + rank) << "ready";
  for (int i = 0; i < 400 && !g_sigint; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(g_sigint) << "no SIGINT within 20 s";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::ofstream(out + "/stopped" + rank) << "stopped";
  std::_Exit(130);  // as `adaswarm train` ends after Ctrl-C
}

// ------------------------------------------------------------------ parent tests

TEST(DistTrain, TwoRanksMatchOneProcessWithAdam) {
  SKIP_UNLESS_READY();
  TempDir dir("disttrain");
  Launch L;
  L.ranks = 2;
  L.worker = "DistTrainWorker.Train";
  L.out_dir = dir.str();
  L.env = {{"TEST_OPT", "adam"}, {"TEST_CKPT", dir / "ckpt"}, {"TEST_LOG", dir / "log.jsonl"}};
  const auto rs = run_ranks(L);
  for (const auto& r : rs) ASSERT_EQ(r.exit_code, 0) << outputs(rs);

  std::ostringstream quiet;
  auto c = small_config("adam");
  ex::Trainer one(c, &quiet, nullptr);
  const auto s = one.run();
  const auto ref = parameters_of(one.model());
  for (int r = 0; r < 2; ++r) {
    const auto p = load_tensors(dir / ("model" + std::to_string(r) + ".pt"));
    ASSERT_EQ(p.size(), ref.size());
    for (size_t i = 0; i < p.size(); ++i)
      EXPECT_TRUE(torch::allclose(p[i], ref[i], 1e-4, 1e-5))
          << "rank " << r << " parameter " << i << ": max diff " << (p[i] - ref[i]).abs().max().item<double>();
  }
  EXPECT_TRUE(load_tensors(dir / "model0.pt")[0].equal(load_tensors(dir / "model1.pt")[0])) << "ranks differ";
  // Rank 0 alone wrote the log: 2 epochs + the summary, with the world size.
  EXPECT_EQ(count_lines(dir / "log.jsonl"), 3);
  std::ifstream f(dir / "log.jsonl");
  std::string first;
  std::getline(f, first);
  const auto j = nlohmann::json::parse(first);
  EXPECT_EQ(j.at("world_size"), 2);
  EXPECT_NEAR(j.at("train_loss").get<double>(), s.epochs[0].train_loss, 1e-4);
  EXPECT_NEAR(j.at("test_accuracy").get<double>(), s.epochs[0].test_accuracy, 1e-9);
}

TEST(DistTrain, ResumeAtTheSameWorldSizeAndRefusedAtAnother) {
  SKIP_UNLESS_READY();
  TempDir dir("disttrain");
  auto launch = [&](const std::string& sub, std::map<std::string, std::string> env) {
    fs::create_directories(dir / sub);
    Launch L;
    L.ranks = 2;
    L.worker = "DistTrainWorker.Train";
    L.out_dir = dir / sub;
    L.env = std::move(env);
    L.env["TEST_OPT"] = "adaswarm";
    const auto rs = run_ranks(L);
    for (const auto& r : rs) EXPECT_EQ(r.exit_code, 0) << outputs(rs);
  };
  launch("full", {{"TEST_CKPT", dir / "full/ckpt"}});
  launch("first", {{"TEST_CKPT", dir / "split"}, {"TEST_STOP", "1"}});
  launch("second", {{"TEST_CKPT", dir / "split"}, {"TEST_RESUME", "1"}});
  for (int r = 0; r < 2; ++r) {
    const auto a = load_tensors(dir / ("full/model" + std::to_string(r) + ".pt"));
    const auto b = load_tensors(dir / ("second/model" + std::to_string(r) + ".pt"));
    const auto stopped = load_tensors(dir / ("first/model" + std::to_string(r) + ".pt"));
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_TRUE(a[i].equal(b[i])) << "rank " << r << " parameter " << i << ": resumed run differs";
      EXPECT_FALSE(a[i].equal(stopped[i])) << "the first part did not stop early";
    }
  }
  // The same checkpoint at WORLD_SIZE=1: refused, saying why.
  auto c = small_config("adaswarm");
  c.checkpoint_dir = dir / "split";
  c.resume = true;
  std::ostringstream quiet;
  try {
    ex::Trainer t(c, &quiet, nullptr);
    ADD_FAILURE() << "a 2-rank checkpoint was resumed by one process";
  } catch (const std::exception& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("2 rank(s)"), std::string::npos) << m;
    EXPECT_NE(m.find("WORLD_SIZE=1"), std::string::npos) << m;
  }
}

TEST(DistTrain, RanksWithOtherOptionsAreRefused) {
  SKIP_UNLESS_READY();
  TempDir dir("disttrain");
  // rank 1 with another --seed (trained silently apart), or with --resume alone
  // (both ranks waited for the timeout in mismatched collectives)
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases{
      {{{"TEST_RANK1_SEED", "6"}}, "--seed is 5 on rank 0 but 6 on rank 1"},
      {{{"TEST_RANK1_RESUME", "1"}, {"TEST_CKPT", dir / "ckpt"}}, "--resume is off on rank 0 but on on rank 1"}};
  int n = 0;
  for (const auto& [env, expected] : cases) {
    const fs::path out = dir / ("case" + std::to_string(n++));
    fs::create_directories(out);
    Launch L;
    L.ranks = 2;
    L.worker = "DistTrainWorker.Train";
    L.out_dir = out.string();
    L.env = env;
    L.deadline = 90;
    const auto rs = run_ranks(L);
    for (int r = 0; r < 2; ++r) {
      EXPECT_NE(rs[r].exit_code, 0) << expected << "\n" << outputs(rs);
      EXPECT_NE(rs[r].output.find("the ranks were started with different settings"), std::string::npos)
          << outputs(rs);
      EXPECT_NE(rs[r].output.find(expected), std::string::npos) << outputs(rs);
    }
    EXPECT_LT(L.seconds, 30.0) << "the ranks waited for the 60 s timeout";
    EXPECT_FALSE(fs::exists(out / "model0.pt")) << "rank 0 trained";
  }
}

#ifdef ADASWARM_CLI_PATH
TEST(DistTrain, CliUnderLaunchLocal) {
  SKIP_UNLESS_READY();
  TempDir dir("disttrain");
  const std::string script = std::string(ADASWARM_DATA_DIR) + "/../scripts/launch-local.sh";
  const std::string cmd = script + " 2 -- " + ADASWARM_CLI_PATH +
                          " train --model mlp --mlp-hidden 16 --dataset mnist --data-dir " + kShared +
                          "/mnist --train-limit 100 --test-limit 50 --batch-size 25 --epochs 1 --optimizer adaswarm "
                          "--threads 1 --progress off --log " +
                          (dir / "log.jsonl") + " > " + (dir / "out.txt") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << std::ifstream(dir / "out.txt").rdbuf();
  std::ifstream f(dir / "out.txt");
  const std::string out((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(out.find("data parallel: 2 ranks"), std::string::npos) << out;
  EXPECT_EQ(out.find("adaswarm train:"), out.rfind("adaswarm train:")) << "more than one rank printed:\n" << out;
  EXPECT_EQ(count_lines(dir / "log.jsonl"), 2);
}

// Ctrl-C: launch-local.sh forwards SIGINT to every rank and waits for them; it
// used to stop at once with "done_pid: unbound variable" and status 1, leaving
// the ranks running (and saving their checkpoint) behind it.
TEST(DistTrain, LaunchLocalForwardsCtrlCAndWaitsForTheRanks) {
  TempDir dir("disttrain");
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  ASSERT_GT(n, 0);
  exe[n] = '\0';
  const std::string script = std::string(ADASWARM_DATA_DIR) + "/../scripts/launch-local.sh";
  const std::string filter = "--gtest_filter=DistTrainWorker.WaitForSigint";
  const std::string log = dir / "launch.log";
  std::vector<std::string> args{"/bin/bash", script, "2", "--", exe, filter};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const std::string k = kv.substr(0, kv.find('='));
    if (k != "MASTER_PORT" && k != "ADASWARM_DIST_WORKER" && k != "ADASWARM_DIST_OUT") env.push_back(kv);
  }
  env.push_back("ADASWARM_DIST_WORKER=1");
  env.push_back("ADASWARM_DIST_OUT=" + dir.str());
  std::vector<char*> envp;
  for (auto& v : env) envp.push_back(v.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t dflt;
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGINT);  // the script must be able to trap it, whoever started this test
  posix_spawnattr_setsigdefault(&at, &dflt);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, "/bin/bash", &fa, &at, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  auto ready = [&] { return fs::exists(dir / "ready0") && fs::exists(dir / "ready1"); };
  for (int i = 0; i < 300 && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(ready()) << std::ifstream(log).rdbuf();
  ::kill(pid, SIGINT);
  int status = 0;
  int waited = 0;
  for (; waited < 600 && ::waitpid(pid, &status, WNOHANG) != pid; ++waited)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (waited == 600) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  const bool both_stopped = fs::exists(dir / "stopped0") && fs::exists(dir / "stopped1");
  std::ifstream f(log);
  const std::string out((std::istreambuf_iterator<char>(f)), {});
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 130) << out;  // the ranks' status
  EXPECT_TRUE(both_stopped) << "the script ended before its ranks:\n" << out;
  EXPECT_EQ(out.find("unbound variable"), std::string::npos) << out;
  // The ranks stopped because of the Ctrl-C: no talk of a failed rank to stop the others for.
  EXPECT_EQ(out.find("stopping the other ranks"), std::string::npos) << out;
  for (int i = 0; i < 100 && !(fs::exists(dir / "stopped0") && fs::exists(dir / "stopped1")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // (old script: let the orphans finish)
}

TEST(DistTrain, BadEnvironmentIsNamed) {
  TempDir dir("disttrain");
  const std::string cmd = std::string("RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 ") + ADASWARM_CLI_PATH +
                          " train --model mlp --dataset mnist --data-dir /nonexistent > " + (dir / "out.txt") +
                          " 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_NE(rc, 0);
  std::ifstream f(dir / "out.txt");
  const std::string out((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(out.find("MASTER_PORT"), std::string::npos) << out;
  EXPECT_EQ(out.find("Exception raised from"), std::string::npos) << out;
}
#endif

}  // namespace
