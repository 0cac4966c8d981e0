// The fidelity runner: a tiny run returns well-formed rows (finite cosines in
// [-1, 1], the zeroth-order estimators at the swarm's evaluation count), the
// Targets start on MSE points along autograd's gradient, runs are reproducible,
// options are checked, and the CLI names bad flags and never overwrites a file
// unless asked.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "adaswarm/experiments/fidelity.h"
#include "temp_dir.h"

using namespace adaswarm::experiments::fidelity;

namespace {

FidelityOptions tiny() {
  FidelityOptions o;
  o.sources = {Source::MLP_UCI};
  o.losses = {"mse"};
  o.seeds = 2;
  o.presets = {"paper"};
  o.starts = {"targets", "output"};
  o.spans = {0.0};
  o.particles = {10};
  o.iterations = {5};
  o.grad_scales = {"swarm", "unit"};
  o.mlp_epochs = {0, 5};
  o.uci_data_dir = ADASWARM_DATA_DIR;
  o.threads = 2;
  o.progress = false;
  return o;
}

const FidelityRow* find(const std::vector<FidelityRow>& rows, const std::string& est, const std::string& start,
                        const std::string& gs, int64_t snap) {
  for (const auto& r : rows)
    if (r.estimator == est && r.snapshot_index == snap && (est != "swarm" || (r.start == start && r.grad_scale == gs)))
      return &r;
  return nullptr;
}

std::string read(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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

}  // namespace

TEST(Fidelity, TinyRunGivesWellFormedRows) {
  const auto res = run_fidelity(tiny());
  // 2 snapshots x (2 starts x 2 scales swarm + spsa, gauss, spsa-row, gauss-row)
  ASSERT_EQ(res.rows.size(), 2u * (4 + 4));
  for (const auto& r : res.rows) {
    SCOPED_TRACE(r.estimator + " " + r.start + " " + r.snapshot);
    EXPECT_EQ(r.source, "mlp-uci");
    EXPECT_EQ(r.loss, "mse");
    EXPECT_EQ(r.n, 2);
    EXPECT_TRUE(std::isfinite(r.cosine_mean));
    EXPECT_GE(r.cosine_mean, -1.0 - 1e-9);
    EXPECT_LE(r.cosine_mean, 1.0 + 1e-9);
    EXPECT_TRUE(std::isfinite(r.norm_ratio_mean));
    EXPECT_GT(r.norm_ratio_mean, 0.0);
    EXPECT_GE(r.cosine_std, 0.0);
    EXPECT_GT(r.evaluations, 0.0);
  }
  for (int64_t snap : {0, 5}) {
    const auto* sw = find(res.rows, "swarm", "targets", "swarm", snap);
    const auto* sp = find(res.rows, "spsa", "", "", snap);
    const auto* ga = find(res.rows, "gauss", "", "", snap);
    ASSERT_TRUE(sw && sp && ga);
    // the swarm started at the targets pulls toward them: for MSE that is autograd's direction
    EXPECT_GT(sw->cosine_mean, 0.5);
    EXPECT_GT(sw->pull_cosine_mean, 0.5);
    // zeroth-order estimates at the swarm's evaluation count (k = evaluations / 2 pairs)
    EXPECT_NEAR(sp->evaluations, sw->evaluations, 1.0);
    EXPECT_NEAR(ga->evaluations, sw->evaluations, 1.0);
    EXPECT_EQ(sp->particles, 10);
    EXPECT_EQ(sp->iterations, 5);
    // unit scale drops cbar / eta only: same direction
    const auto* unit = find(res.rows, "swarm", "targets", "unit", snap);
    ASSERT_TRUE(unit);
    EXPECT_NEAR(unit->cosine_mean, sw->cosine_mean, 0.2);
  }
  // CSV: header + one line per row, same column count everywhere
  const std::string csv = to_csv(res.rows);
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  const auto cols = std::count(line.begin(), line.end(), ',');
  EXPECT_NE(line.find("cosine_mean"), std::string::npos);
  size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), cols) << line;
  }
  EXPECT_EQ(lines, res.rows.size());
  EXPECT_NE(format_summary(res.rows).find("swarm targets"), std::string::npos);
}

TEST(Fidelity, SameOptionsSameRowsWhateverTheThreads) {
  auto a = tiny(), b = tiny();
  a.seeds = b.seeds = 1;
  a.threads = 1;
  b.threads = 2;
  EXPECT_EQ(to_csv(run_fidelity(a).rows), to_csv(run_fidelity(b).rows));
}

TEST(Fidelity, CnnProbeOnFashionMnist) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto o = tiny();
  o.sources = {Source::CNN_FMNIST};
  o.losses = {"ce", "mse"};
  o.seeds = 1;
  o.cnn_steps = {0};
  o.cnn_batch = 16;
  o.starts = {"targets"};
  o.grad_scales = {"swarm"};
  const auto res = run_fidelity(o);
  ASSERT_EQ(res.rows.size(), 2u * 5u);
  for (const auto& r : res.rows) {
    EXPECT_EQ(r.source, "cnn-fmnist");
    EXPECT_TRUE(std::isfinite(r.cosine_mean)) << r.loss << " " << r.estimator;
    EXPECT_LE(std::abs(r.cosine_mean), 1.0 + 1e-9);
  }
}

TEST(Fidelity, RejectsBadOptionsNamingThem) {
  auto expect_msg = [](FidelityOptions o, const std::string& word) {
    try {
      o.validate();
      ADD_FAILURE() << "no exception for " << word;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  auto o = tiny();
  o.seeds = 0;
  expect_msg(o, "--seeds");
  o = tiny();
  o.losses = {"bce"};
  expect_msg(o, "--losses");
  o = tiny();
  o.losses = {"nope"};
  expect_msg(o, "--losses");
  o = tiny();
  o.zo_step = 0;
  expect_msg(o, "--zo-step");
  o = tiny();
  o.particles = {0};
  expect_msg(o, "particles");
  o = tiny();
  o.spans = {-1};
  expect_msg(o, "spans");
  o = tiny();
  o.presets = {"fast"};
  expect_msg(o, "presets");
  o = tiny();
  o.starts = {"center"};
  expect_msg(o, "starts");
  o = tiny();
  o.uci_set = "nope";
  expect_msg(o, "--uci-set");
  EXPECT_THROW(source_from_string("rnn"), std::invalid_argument);
}

#ifdef ADASWARM_CLI_PATH
TEST(FidelityCli, RejectsBadFlagsNamingThem) {
  const std::string cli = ADASWARM_CLI_PATH;
  adaswarm::testing::TempDir dir("adaswarm_fid");
  const std::string out = dir / "f.csv";
  for (const auto& [flag, value] :
       std::vector<std::pair<std::string, std::string>>{{"--seeds", "0"},
                                                        {"--seeds", "-2"},
                                                        {"--threads", "-1"},
                                                        {"--zo-step", "0"},
                                                        {"--particles", "0"},
                                                        {"--iterations", "-1"},
                                                        {"--mlp-batch", "0"},
                                                        {"--cnn-steps", "-5"},
                                                        {"--spans", "-1"},
                                                        {"--sources", "rnn"},
                                                        {"--losses", "bce"}}) {
    const auto [rc, text] = shell(cli + " fidelity --no-progress --out " + out + " " + flag + " " + value);
    EXPECT_NE(rc, 0) << flag << " " << value;
    EXPECT_NE(text.find(flag), std::string::npos) << flag << " " << value << ": " << text;
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

TEST(FidelityCli, RefusesAnExistingOutUnlessOverwrite) {
  const std::string cli = ADASWARM_CLI_PATH;
  adaswarm::testing::TempDir dir("adaswarm_fid");
  const std::string out = dir / "f.csv";
  { std::ofstream(out) << "keep me\n"; }
  const std::string tiny_flags = " fidelity --no-progress --sources mlp --losses mse --seeds 1 --presets paper "
                                 "--starts targets --spans 0 --particles 10 --iterations 5 --grad-scales swarm "
                                 "--mlp-epochs 0 --out " + out;
  auto [rc, text] = shell(cli + tiny_flags);
  EXPECT_NE(rc, 0);
  EXPECT_NE(text.find("--overwrite"), std::string::npos) << text;
  EXPECT_EQ(read(out), "keep me\n");
  std::tie(rc, text) = shell(cli + tiny_flags + " --overwrite");
  EXPECT_EQ(rc, 0) << text;
  const std::string csv = read(out);
  EXPECT_EQ(csv.rfind("source,snapshot,", 0), 0u) << csv;
  EXPECT_NE(csv.find("mlp-uci,epoch 0,0,mse,swarm,paper,targets"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",spsa,"), std::string::npos);
  EXPECT_NE(text.find("swarm targets"), std::string::npos) << text;  // the summary table
}
#endif
