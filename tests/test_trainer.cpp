// The vision trainer: a short real training run that reaches a stated accuracy,
// exact resume after Ctrl-C (mid-epoch and at an epoch boundary), checkpoint
// and log files, and the `adaswarm train` command line.
#include <gtest/gtest.h>

#include "temp_dir.h"
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <cmath>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adaswarm/experiments/trainer.h"

namespace fs = std::filesystem;
namespace ex = adaswarm::experiments;
using json = nlohmann::json;

namespace {

const std::string kShared = ADASWARM_SHARED_DATA;

using adaswarm::testing::TempDir;

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> v;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) v.push_back(json::parse(line));
  return v;
}

// Small MNIST configuration: the first `n` (approximate) training images, the
// first 200 official test images.
ex::TrainConfig mnist_config(const std::string& model, const std::string& opt, int64_t n) {
  ex::TrainConfig c;
  c.model = model;
  c.dataset = "mnist";
  c.data_dir = kShared + "/mnist";
  c.optimizer = opt;
  c.loss = "ce";
  c.epochs = 2;
  c.batch_size = 50;
  c.lr = 1e-3;
  c.seed = 7;
  c.threads = 2;
  c.train_limit = n;
  c.test_limit = 200;
  c.progress = false;
  return c;
}

void expect_same_state(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& kv : pa) EXPECT_TRUE(torch::equal(kv.value(), pb[kv.key()])) << kv.key();
  auto ba = a.named_buffers(), bb = b.named_buffers();
  for (const auto& kv : ba) EXPECT_TRUE(torch::equal(kv.value(), bb[kv.key()])) << kv.key();
}

// Trains `cfg` uninterrupted, then again with a Ctrl-C (a real SIGINT) after
// batch `stop_batch` of epoch `stop_epoch` and a resume; the weights must match.
void check_resume(ex::TrainConfig cfg, int64_t stop_epoch, int64_t stop_batch) {
  TempDir d;
  std::ostringstream quiet;
  cfg.checkpoint_dir = d / "full";
  ex::Trainer full(cfg, &quiet, nullptr);
  auto s_full = full.run();
  ASSERT_FALSE(s_full.interrupted);

  cfg.checkpoint_dir = d / "split";
  cfg.log_path = d / "split.jsonl";
  auto first_cfg = cfg;
  first_cfg.on_batch = [&](int64_t e, int64_t b) {
    if (e == stop_epoch && b == stop_batch) std::raise(SIGINT);
  };
  std::ostringstream out1;
  ex::Trainer first(first_cfg, &out1, nullptr);
  auto s1 = first.run();
  ASSERT_TRUE(s1.interrupted) << out1.str();
  EXPECT_NE(out1.str().find("checkpoint saved to"), std::string::npos) << out1.str();
  EXPECT_TRUE(fs::exists(d / "split/checkpoint.pt"));
  EXPECT_FALSE(fs::exists(d / "split/checkpoint.pt.tmp"));

  auto resume_cfg = cfg;
  resume_cfg.resume = true;
  std::ostringstream out2;
  ex::Trainer second(resume_cfg, &out2, nullptr);
  auto s2 = second.run();
  ASSERT_FALSE(s2.interrupted);
  expect_same_state(full.model(), second.model());
  ASSERT_EQ(s2.epochs.size(), s_full.epochs.size());
  for (size_t i = 0; i < s2.epochs.size(); ++i) {
    EXPECT_DOUBLE_EQ(s2.epochs[i].test_accuracy, s_full.epochs[i].test_accuracy);
    EXPECT_NEAR(s2.epochs[i].train_loss, s_full.epochs[i].train_loss, 1e-9);
  }
  // One log record per epoch across the two processes, plus the summary.
  auto log = read_jsonl(cfg.log_path);
  int epochs = 0;
  for (const auto& j : log) epochs += j.at("type") == "epoch";
  EXPECT_EQ(epochs, cfg.epochs);
  EXPECT_EQ(log.back().at("type"), "summary");
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST(Trainer, ShortMnistRunWithAdamReachesNinetyPercent) {
  // 1000 training images (approximate rebuild of the MNIST training file), 200
  // official test images, the paper's CNN, Adam lr 1e-3, 2 epochs of batch 50.
  TempDir d;
  auto c = mnist_config("cnn", "adam", 1000);
  c.log_path = d / "log.jsonl";
  c.checkpoint_dir = d / "ck";
  std::ostringstream out;
  ex::Trainer t(c, &out, nullptr);
  EXPECT_TRUE(t.approximate_data());
  auto s = t.run();
  EXPECT_FALSE(s.interrupted);
  ASSERT_EQ(s.epochs.size(), 2u);
  EXPECT_GE(s.final_test_accuracy, 0.85) << out.str();
  EXPECT_GE(s.best_test_accuracy, s.final_test_accuracy);
  EXPECT_LT(s.epochs[1].train_loss, s.epochs[0].train_loss);
  EXPECT_EQ(s.parameters, 1199882);
  auto log = read_jsonl(c.log_path);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].at("epoch"), 1);
  EXPECT_EQ(log[1].at("type"), "epoch");
  EXPECT_TRUE(log[1].at("approximate_data").get<bool>());
  EXPECT_DOUBLE_EQ(log[1].at("test_accuracy").get<double>(), s.final_test_accuracy);
  EXPECT_EQ(log[2].at("type"), "summary");
  EXPECT_TRUE(fs::exists(d / "ck/checkpoint.pt"));
  EXPECT_NE(out.str().find("epoch 2/2"), std::string::npos);
}

TEST(Trainer, ShortMnistRunWithAdaSwarmLearns) {
  auto c = mnist_config("cnn", "adaswarm", 1000);
  std::ostringstream out;
  ex::Trainer t(c, &out, nullptr);
  auto s = t.run();
  ASSERT_EQ(s.epochs.size(), 2u);
  EXPECT_GE(s.final_test_accuracy, 0.80) << out.str();
}

TEST(Trainer, ResumeAfterCtrlCMidEpochGivesIdenticalWeights) {
  // AdaSwarm: the swarm's RNG, Adam moments, dropout's torch RNG and the data order must all resume.
  check_resume(mnist_config("cnn", "adaswarm", 300), 0, 2);
}

TEST(Trainer, ResumeAtAnEpochBoundaryGivesIdenticalWeights) {
  auto c = mnist_config("cnn", "adam", 300);
  check_resume(c, 0, 5);  // Ctrl-C with the last batch of epoch 1: the epoch finishes, then it stops
}

TEST(Trainer, ResumeWithEmulatedSgdAndAugmentation) {
  // A standalone swarm loss (plain SGD driven by it) and CIFAR crop/flip augmentation.
  ex::TrainConfig c;
  c.model = "mlp";
  c.mlp_hidden = 32;
  c.dataset = "cifar10";
  c.data_dir = kShared + "/cifar10";
  c.holdout = 50;
  c.optimizer = "emulated-sgd";
  c.momentum = 0.5;
  c.lr = 1e-4;
  c.epochs = 2;
  c.batch_size = 25;
  c.threads = 2;
  c.progress = false;
  check_resume(c, 1, 1);
}

TEST(Trainer, ResumeRefusesACheckpointOfAnotherRun) {
  TempDir d;
  auto c = mnist_config("mlp", "adam", 100);
  c.epochs = 1;
  c.checkpoint_dir = d.str();
  std::ostringstream out;
  ex::Trainer(c, &out, nullptr).run();
  c.resume = true;
  c.lr = 0.5;
  try {
    ex::Trainer t(c, &out, nullptr);
    FAIL() << "resumed a different run";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("different run"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("lr"), std::string::npos) << e.what();
  }
  c.lr = 1e-3;
  c.checkpoint_dir = d / "empty";
  EXPECT_THROW(ex::Trainer(c, &out, nullptr), std::runtime_error);
}

// The checkpoint's own records (identity, epoch, batch, history) were read
// without type or range checks: a damaged or hand-made file died in
// nlohmann's parser or IValue::toInt (a LibTorch backtrace), and an
// out-of-range batch resumed past the end of the epoch. Each record is
// replaced in turn in a copy of a real checkpoint (without the model, which
// comes after them); the untampered copy passes these checks and stops at
// the missing model, so the checks fire on the bad value only.
TEST(Trainer, DamagedCheckpointRecordsAreNamed) {
  TempDir d;
  auto c = mnist_config("mlp", "adam", 100);
  c.epochs = 1;
  c.checkpoint_dir = d.str();
  std::ostringstream out;
  ex::Trainer(c, &out, nullptr).run();
  const std::string path = d / "checkpoint.pt";
  torch::serialize::InputArchive in;
  in.load_from(path);
  std::map<std::string, c10::IValue> records;
  for (const char* key : {"format", "identity", "world_size", "epoch", "batch", "history"}) {
    c10::IValue v;
    ASSERT_TRUE(in.try_read(key, v)) << key;
    records[key] = v;
  }
  at::Tensor running;
  in.read("running", running);
  ASSERT_EQ(records["epoch"].toInt(), 1);
  c.resume = true;
  auto resume_error = [&](const std::string& key, const c10::IValue& value) {
    torch::serialize::OutputArchive ar;
    for (const auto& [k, v] : records) ar.write(k, k == key ? value : v);
    ar.write("running", running);
    ar.save_to(path);
    try {
      ex::Trainer t(c, &out, nullptr);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << key << ": resumed";
    return std::string();
  };
  const std::string intact = resume_error("", c10::IValue());
  EXPECT_NE(intact.find("model"), std::string::npos) << intact;
  struct Case {
    const char* key;
    c10::IValue value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"identity", c10::IValue(std::string("{not json")), "\"identity\" record (not JSON)"},
      {"identity", c10::IValue(int64_t{3}), "\"identity\" record (missing or not text)"},
      {"identity", c10::IValue(std::string("[1,2]")), "\"identity\" record (not a JSON object)"},
      {"epoch", c10::IValue(std::string("1")), "\"epoch\" record (missing or not an integer)"},
      {"epoch", c10::IValue(int64_t{-1}), "\"epoch\" is -1, expected 0.."},
      {"batch", c10::IValue(int64_t{1000000}), "\"batch\" is 1000000, expected 0.."},
      {"history", c10::IValue(std::string("[]")), "\"history\" record (expected a list of 1 epoch records)"},
      {"history", c10::IValue(std::string("[{\"epoch\":1}]")), "'train_loss' not found"},
      {"history", c10::IValue(std::string("{")), "\"history\" record (not JSON)"},
  };
  for (const auto& k : cases) {
    const std::string m = resume_error(k.key, k.value);
    EXPECT_NE(m.find(path + ": the checkpoint's"), std::string::npos) << k.key << ": " << m;
    EXPECT_NE(m.find(k.expected), std::string::npos) << k.key << ": " << m;
    EXPECT_EQ(m.find("Exception raised from"), std::string::npos) << m;
    EXPECT_EQ(m.find("json.exception"), std::string::npos) << m;
  }
}

TEST(Trainer, UnwritableCheckpointIsFoundBeforeTraining) {
  TempDir d;
  std::ostringstream out;
  auto c = mnist_config("mlp", "adam", 100);
  c.epochs = 1;
  int64_t batches = 0;
  c.on_batch = [&](int64_t, int64_t) { ++batches; };
  { std::ofstream(d / "afile") << "x"; }
  c.checkpoint_dir = d / "afile";  // a regular file: no directory can be made there (root or not)
  try {
    ex::Trainer t(c, &out, nullptr);
    t.run();
    FAIL() << "trained with an unwritable checkpoint";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--checkpoint " + (d / "afile")), std::string::npos) << e.what();
  }
  EXPECT_EQ(batches, 0);
  fs::create_directories(d / "ck/checkpoint.pt");  // the checkpoint's own name taken by a directory
  c.checkpoint_dir = d / "ck";
  try {
    ex::Trainer t(c, &out, nullptr);
    t.run();
    FAIL() << "trained with a directory in the checkpoint's place";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
  EXPECT_EQ(batches, 0);
  EXPECT_TRUE(fs::is_directory(d / "ck/checkpoint.pt"));
}

TEST(Trainer, LeftoverTemporaryCheckpointIsRemovedWithAMessage) {
  TempDir d;
  fs::create_directories(d / "ck");
  for (const char* f : {"checkpoint.pt.tmpAb12Cd", "checkpoint.pt.tmpX", "other.pt.tmpAb12Cd"})
    std::ofstream(d / (std::string("ck/") + f)) << "torn";
  auto c = mnist_config("mlp", "adam", 100);
  c.checkpoint_dir = d / "ck";
  std::ostringstream out;
  ex::Trainer t(c, &out, nullptr);
  EXPECT_FALSE(fs::exists(d / "ck/checkpoint.pt.tmpAb12Cd"));
  EXPECT_NE(out.str().find("removed " + (d / "ck/checkpoint.pt.tmpAb12Cd")), std::string::npos) << out.str();
  EXPECT_TRUE(fs::exists(d / "ck/checkpoint.pt.tmpX"));      // not a name mkstemp gives
  EXPECT_TRUE(fs::exists(d / "ck/other.pt.tmpAb12Cd"));      // not this checkpoint's
  EXPECT_FALSE(fs::exists(d / "ck/checkpoint.pt"));
}

TEST(Trainer, ExistingCheckpointIsRefusedUnlessOverwriteOrResume) {
  TempDir d;
  auto c = mnist_config("mlp", "adam", 100);
  c.epochs = 1;
  c.checkpoint_dir = d.str();
  std::ostringstream out;
  ex::Trainer(c, &out, nullptr).run();
  const std::string ck = d / "checkpoint.pt";
  ASSERT_TRUE(fs::exists(ck));
  const auto stamp = fs::last_write_time(ck);
  try {
    ex::Trainer t(c, &out, nullptr);
    FAIL() << "replaced an existing checkpoint";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(ck + " exists"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--overwrite"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fs::last_write_time(ck), stamp);
  auto both = c;
  both.resume = both.overwrite = true;
  EXPECT_THROW(ex::Trainer(both, &out, nullptr), std::invalid_argument);
  c.overwrite = true;
  EXPECT_NO_THROW(ex::Trainer(c, &out, nullptr).run());
}

TEST(Trainer, RatesAndCountsAreCheckedWithTheOptionsName) {
  std::ostringstream out;
  struct Case {
    std::function<void(ex::TrainConfig&)> set;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {[](ex::TrainConfig& c) { c.momentum = -1; }, "--momentum"},
      {[](ex::TrainConfig& c) { c.momentum = std::nan(""); }, "--momentum"},
      {[](ex::TrainConfig& c) { c.weight_decay = -1; }, "--weight-decay"},
      {[](ex::TrainConfig& c) { c.weight_decay = INFINITY; }, "--weight-decay"},
      {[](ex::TrainConfig& c) { c.lr = INFINITY; }, "--lr"},
      {[](ex::TrainConfig& c) { c.threads = 100000; }, "--threads 100000"},
  };
  for (const auto& k : cases) {
    auto c = mnist_config("mlp", "sgd", 100);
    k.set(c);
    try {
      ex::Trainer t(c, &out, nullptr);
      ADD_FAILURE() << "accepted: " << k.expect;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(k.expect), std::string::npos) << e.what();
    }
  }
}

TEST(Trainer, BatchLargerThanTheDataIsOneBatch) {
  auto c = mnist_config("mlp", "adam", 100);
  c.epochs = 1;
  c.batch_size = std::numeric_limits<int64_t>::max();
  int64_t batches = 0;
  c.on_batch = [&](int64_t, int64_t) { ++batches; };
  std::ostringstream out;
  ex::Trainer t(c, &out, nullptr);
  const auto s = t.run();
  EXPECT_EQ(batches, 1);
  ASSERT_EQ(s.epochs.size(), 1u);
  EXPECT_GT(s.epochs[0].train_accuracy, 0.0);
}

TEST(Trainer, BadOptions) {
  std::ostringstream out;
  auto c = mnist_config("cnn", "adam", 100);
  c.optimizer = "lbfgs-ish";
  EXPECT_THROW(ex::Trainer(c, &out, nullptr), std::invalid_argument);
  c = mnist_config("cnn", "adam", 100);
  c.device = "tpu";
  EXPECT_THROW(ex::Trainer(c, &out, nullptr), std::invalid_argument);
  c = mnist_config("cnn", "adam", 100);
  c.data_dir = "/nonexistent/mnist";
  EXPECT_THROW(ex::Trainer(c, &out, nullptr), std::runtime_error);
}

#ifdef ADASWARM_CLI_PATH
namespace {
struct Run {
  int code;
  std::string out, err;
};
Run run_cli(const std::string& args, const TempDir& d) {
  const std::string cmd = std::string(ADASWARM_CLI_PATH) + " " + args + " >" + (d / "o.txt") + " 2>" + (d / "e.txt");
  const int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(d / "o.txt"), slurp(d / "e.txt")};
}
}  // namespace

TEST(TrainCli, ErrorsAreClearAndExitNonZero) {
  TempDir d;
  auto r = run_cli("train --dataset mnist --data-dir /nonexistent/dir --epochs 1", d);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("adaswarm: error: /nonexistent/dir"), std::string::npos) << r.err;
  // A truncated image file.
  fs::create_directories(d / "m");
  for (const char* f : {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"})
    fs::copy_file(kShared + "/mnist/" + f, d / (std::string("m/") + f));
  {
    std::ifstream in(kShared + "/mnist/train-images-idx3-ubyte.APPROX.gz", std::ios::binary);
    std::vector<char> buf(100000);
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::ofstream o(d / "m/train-images-idx3-ubyte.gz", std::ios::binary);
    o.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  }
  r = run_cli("train --dataset mnist --data-dir " + d / "m", d);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("train-images-idx3-ubyte.gz: corrupt or truncated"), std::string::npos) << r.err;
  r = run_cli("train --dataset cifar10 --data-dir " + kShared + "/cifar10", d);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("test_batch.bin"), std::string::npos) << r.err;
  r = run_cli("train --optimizer nope", d);
  EXPECT_NE(r.code, 0);
}

TEST(TrainCli, OutOfRangeOptionsNameTheOption) {
  TempDir d;
  const std::string base = "train --model mlp --dataset mnist --data-dir " + kShared + "/mnist --train-limit 50 "
                           "--test-limit 20 --epochs 1 ";
  for (const auto& [args, expect] : std::vector<std::pair<std::string, std::string>>{
           {"--batch-size 99999999999999999999", "--batch-size"},
           {"--batch-size 9223372036854775808", "--batch-size"},
           {"--seed -1", "--seed"},
           {"--threads -1", "--threads"},
           {"--momentum -1 --optimizer sgd", "--momentum"},
           {"--weight-decay -1", "--weight-decay"}}) {
    SCOPED_TRACE(args);
    auto r = run_cli(base + args, d);
    EXPECT_NE(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("epoch 1/1"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("Exception raised from"), std::string::npos) << r.err;  // no LibTorch backtrace
  }
}

TEST(TrainCli, SmallCifarRunWritesLogAndSummary) {
  TempDir d;
  auto r = run_cli("train --model mlp --mlp-hidden 32 --dataset cifar10 --data-dir " + kShared +
                       "/cifar10 --holdout 50 --optimizer adaswarm --epochs 2 --batch-size 25 --threads 2 --log " +
                       (d / "l.jsonl") + " --checkpoint " + (d / "ck"),
                   d);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("150 train / 50 test images (test held out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("summary: best test accuracy"), std::string::npos) << r.out;
  auto log = read_jsonl(d / "l.jsonl");
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[1].at("epoch"), 2);
  EXPECT_EQ(log[2].at("type"), "summary");
  EXPECT_TRUE(fs::exists(d / "ck/checkpoint.pt"));
}

TEST(TrainCli, CtrlCSavesACheckpointAndSaysHowToResume) {
  TempDir d;
  const std::string log = d / "l.jsonl";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string outp = d / "o.txt", errp = d / "e.txt";
    freopen(outp.c_str(), "w", stdout);
    freopen(errp.c_str(), "w", stderr);
    const std::string dir = kShared + "/mnist", ck = d / "ck";
    execl(ADASWARM_CLI_PATH, "adaswarm", "train", "--model", "mlp", "--dataset", "mnist", "--data-dir", dir.c_str(),
          "--optimizer", "adam", "--epochs", "1000", "--train-limit", "500", "--test-limit", "100", "--threads", "1",
          "--batch-size", "10", "--augment", "on", "--checkpoint", ck.c_str(), "--log", log.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for the first epoch's log record, then press Ctrl-C.
  const auto t0 = std::chrono::steady_clock::now();
  while (!fs::exists(log) || fs::file_size(log) == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(120)) << slurp(d / "e.txt");
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const std::string out = slurp(d / "o.txt");
  EXPECT_NE(out.find("checkpoint saved to"), std::string::npos) << out;
  EXPECT_NE(out.find("resume with:"), std::string::npos) << out;
  EXPECT_NE(out.find("--resume"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(d / "ck/checkpoint.pt"));
  // The printed command is accepted as it stands (it once printed `--augment` without its
  // value) and resumes this checkpoint: its settings, --augment on included, match. Run with
  // --epochs 1, which the checkpoint has reached, so that it has nothing left to train.
  const size_t at = out.find("resume with:\n  ");
  ASSERT_NE(at, std::string::npos) << out;
  std::string resume = out.substr(at + 15);
  resume = resume.substr(0, resume.find('\n'));
  EXPECT_NE(resume.find(" --augment on "), std::string::npos) << resume;
  ASSERT_EQ(resume.rfind("adaswarm train ", 0), 0u) << resume;
  const size_t epochs = resume.find(" --epochs 1000 ");
  ASSERT_NE(epochs, std::string::npos) << resume;
  resume.replace(epochs, 15, " --epochs 1 ");
  const auto r = run_cli(resume.substr(9) + " --progress off", d);
  EXPECT_EQ(r.code, 0) << resume << "\n" << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("nothing to train"), std::string::npos) << r.out << r.err;
}
#endif
