// Hard-loss use cases (docs/usecases.md): generators deterministic per seed,
// losses right on hand-made points, the constant control does not learn, short
// runs beat the untrained network where the docs claim a win, the runner is
// independent of --jobs and resumes, the CLI names bad flags.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "adaswarm/experiments/usecases.h"
#include "adaswarm/util/atomic_file.h"
#include "adaswarm/util/runs_file.h"
#include "temp_dir.h"

using namespace adaswarm::experiments::usecases;

namespace {
const std::string kDataDir = ADASWARM_DATA_DIR;
constexpr double kPi = 3.14159265358979323846;

const Task& task(const std::string& key) {
  static const std::vector<Task> tasks = all_tasks(kDataDir);
  for (const auto& t : tasks)
    if (t.key == key) return t;
  throw std::invalid_argument(key);
}

bool same(const at::Tensor& a, const at::Tensor& b) {
  if (a.defined() != b.defined()) return false;
  return !a.defined() || (a.sizes() == b.sizes() && a.dtype() == b.dtype() && torch::equal(a, b));
}
bool same_data(const TaskData& a, const TaskData& b) {
  return same(a.x_train, b.x_train) && same(a.target_train, b.target_train) && same(a.x_test, b.x_test) &&
         same(a.target_test, b.target_test) && same(a.truth_train, b.truth_train) && same(a.truth_test, b.truth_test);
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

TEST(Usecases, GeneratorsAreDeterministicPerSeedAndDifferAcrossSeeds) {
  for (const auto& t : all_tasks(kDataDir)) {
    const auto a = t.generate(3), b = t.generate(3), c = t.generate(4);
    EXPECT_TRUE(same_data(a, b)) << t.key;
    EXPECT_FALSE(same_data(a, c)) << t.key;
    EXPECT_EQ(a.x_train.size(0), a.target_train.size(0)) << t.key;
    EXPECT_EQ(a.x_test.size(0), a.target_test.size(0)) << t.key;
    EXPECT_EQ(a.truth_test.defined(), t.known_minimiser) << t.key;
    // the loss takes [P, B, C] candidates and the target as generated
    const auto l = t.loss(torch::zeros({3, a.x_train.size(0), t.outputs}), a.target_train);
    EXPECT_EQ(l.size(0), 3) << t.key;
    EXPECT_EQ(l.size(1), a.x_train.size(0)) << t.key;
    EXPECT_EQ(l.dim() == 3, t.element_wise) << t.key;
    if (t.known_minimiser) {  // the known minimiser is (near) the loss's minimum
      const auto at_truth = t.loss(a.truth_train.unsqueeze(0), a.target_train).mean().item<double>();
      const auto at_zero = l.mean().item<double>();
      EXPECT_LT(at_truth, 0.25 * at_zero + 1e-6) << t.key;
    }
  }
}

TEST(Usecases, MultiWellStepAndCodebookLossesOnHandMadePoints) {
  const auto t = torch::tensor({{0.1f}, {1.2f}});
  auto at = [&](const Task& task, float y0, float y1) {
    return task.loss(torch::tensor({{y0}, {y1}}).unsqueeze(0), t).flatten();
  };
  const auto mw = at(task("multiwell"), 0.1f, 1.2f);
  EXPECT_NEAR(mw[0].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(mw[1].item<double>(), 0.0, 1e-6);
  // the next well of 0.1 r^2 + 1 - cos(3 r): r = 2 pi / 3, value 0.1 r^2
  const float r = static_cast<float>(2 * kPi / 3);
  EXPECT_NEAR(at(task("multiwell"), 0.1f + r, 1.2f)[0].item<double>(), 0.1 * r * r, 1e-4);
  EXPECT_GT(at(task("multiwell"), 0.1f + r / 2, 1.2f)[0].item<double>(), 1.5);  // the barrier between
  const float rh = static_cast<float>(2 * kPi / 5);
  EXPECT_NEAR(at(task("multiwell-hard"), 0.1f - rh, 1.2f)[0].item<double>(), 0.05 * rh * rh, 1e-4);
  // step: |round(y) - round(t)|
  const auto st = at(task("step"), 0.4f, 3.6f);
  EXPECT_EQ(st[0].item<double>(), 0.0);
  EXPECT_EQ(st[1].item<double>(), 3.0);
  // codebook {-3, -1.5, -0.5, 0.5, 1.5, 3}
  const auto q = codebook_quantize(torch::tensor({0.1f, 2.4f, -9.0f, -0.9f, 1.2f}));
  EXPECT_TRUE(torch::equal(q, torch::tensor({0.5f, 3.0f, -3.0f, -0.5f, 1.5f})));
  const auto cb = at(task("codebook"), 2.4f, -2.0f);
  EXPECT_EQ(cb[0].item<double>(), 2.5);  // q(2.4) = 3 vs q(0.1) = 0.5
  EXPECT_EQ(cb[1].item<double>(), 3.0);  // q(-2) = -1.5 vs q(1.2) = 1.5
  EXPECT_EQ(at(task("codebook"), 0.3f, 1.1f).sum().item<double>(), 0.0);
}

TEST(Usecases, UnwrappingLossIsZeroAtTheTruthAndAtItsAliasesOnly) {
  const std::vector<double> lambdas = {1.0, 1.2};
  const auto d = torch::linspace(0.2, 2.8, 50).unsqueeze(1);
  const auto phases = torch::cat({wrap_phase(4 * kPi * d / 1.0), wrap_phase(4 * kPi * d / 1.2)}, 1);
  EXPECT_LE(phases.abs().max().item<double>(), kPi + 1e-6);
  auto loss_at = [&](double shift) {
    return two_wavelength_loss((d + shift).unsqueeze(0).to(torch::kDouble), phases.to(torch::kDouble), lambdas);
  };
  EXPECT_LT(loss_at(0).abs().max().item<double>(), 1e-5);
  // both phases shift by whole turns at once: 4 pi s / 1.0 = 12 pi and 4 pi s / 1.2 = 10 pi for s = 3.0
  EXPECT_LT(loss_at(3.0).abs().max().item<double>(), 1e-5);
  EXPECT_LT(loss_at(-3.0).abs().max().item<double>(), 1e-5);
  // one wavelength's alias alone is not one: s = 0.5 turns phase 1 by 2 pi, phase 2 by 5 pi / 3
  EXPECT_NEAR(loss_at(0.5).mean().item<double>(), 1 - std::cos(5 * kPi / 3), 1e-4);
  EXPECT_NEAR(loss_at(0.6).mean().item<double>(), 1 - std::cos(4 * kPi * 0.6), 1e-4);
  for (double s = 0.05; s < 2.95; s += 0.05) EXPECT_GT(loss_at(s).min().item<double>(), 1e-3) << "shift " << s;
  // time of flight: the combined ambiguity distance c / (2 * 5 MHz)
  const double c = 299792458.0;
  const std::vector<double> tl = {c / 20e6, c / 25e6};
  const auto z = torch::linspace(2, 18, 20, torch::kDouble).unsqueeze(1);
  const auto zp = torch::cat({wrap_phase(4 * kPi * z / tl[0]), wrap_phase(4 * kPi * z / tl[1])}, 1);
  EXPECT_LT(two_wavelength_loss(z.unsqueeze(0), zp, tl).abs().max().item<double>(), 1e-9);
  EXPECT_LT(two_wavelength_loss((z + c / (2 * 5e6)).unsqueeze(0), zp, tl).abs().max().item<double>(), 1e-9);
  EXPECT_GT(two_wavelength_loss((z + c / (2 * 20e6)).unsqueeze(0), zp, tl).min().item<double>(), 0.1);
  // the generated unwrapping data: the noisy loss at the truth is small, and 0 without noise
  const auto data = task("unwrap").generate(1);
  EXPECT_LT(task("unwrap").loss(data.truth_train.unsqueeze(0), data.target_train).mean().item<double>(), 0.1);
  EXPECT_GT(data.truth_test.max().item<double>() - data.truth_test.min().item<double>(), 2.5);
}

TEST(Usecases, ActuatorHasItsDeadZoneSaturationAndQuantisation) {
  const auto s0 = torch::zeros({1});
  auto sim = [&](double u, double s) { return actuator(torch::tensor({u}), torch::tensor({s})).item<double>(); };
  EXPECT_EQ(sim(0.2, 0), 0.0);
  EXPECT_EQ(sim(-0.29, 0.9), 0.0);
  EXPECT_NEAR(sim(0.8, 0), 0.5, 1e-6);
  EXPECT_NEAR(sim(0.84, 0), 0.5, 1e-6);  // 0.54 -> 0.5
  EXPECT_NEAR(sim(10, 1), 2.0, 1e-6);
  EXPECT_NEAR(sim(-10, -1), -2.0, 1e-6);
  EXPECT_NEAR(sim(1.3, -1), 0.5, 1e-6);  // gain 0.5
  // the known minimiser reaches the desired effect within half a quantum
  const auto d = task("simulator").generate(2);
  const auto e = d.target_test.select(1, 0).unsqueeze(1), s = d.target_test.select(1, 1).unsqueeze(1);
  EXPECT_LE((actuator(d.truth_test, s) - e).abs().max().item<double>(), 0.05 + 1e-5);
  EXPECT_LE(task("simulator").error(d.truth_test, d), 0.05);
}

// The simulator's floor: whatever the command, the effect is a multiple of the
// quantum 0.1, so no arm's error can go below the mean distance from e to the
// nearest level (about 0.025). Found by brute force over a dense grid of
// commands, per test row; the known minimiser reaches it. The issue's goal for
// this task (1/5 of the surrogate's measured 0.051, i.e. 0.0102) lies below it
// (docs/usecases.md).
TEST(Usecases, SimulatorErrorHasAFloorThatTheMinimiserReaches) {
  const auto u = torch::linspace(-5.0, 5.0, 20001).view({1, -1});  // [1, U] commands, steps of 5e-4
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const auto d = task("simulator").generate(seed);
    const auto e = d.target_test.select(1, 0).unsqueeze(1), s = d.target_test.select(1, 1).unsqueeze(1);  // [N, 1]
    const auto best = (actuator(u, s) - e).abs().amin(1);  // [N]: the lowest error any command gives
    const double floor = best.mean().item<double>();
    EXPECT_GT(floor, 0.02) << "seed " << seed;
    EXPECT_LT(floor, 0.03) << "seed " << seed;
    EXPECT_LE(best.max().item<double>(), 0.05 + 1e-5);
    EXPECT_NEAR(task("simulator").error(d.truth_test, d), floor, 1e-5) << "seed " << seed;
    EXPECT_GT(floor, 0.051 / 5);  // the issue's goal for this task cannot be reached
  }
}

// The variant with reachable desired effects: every e is one of the actuator's
// levels in [-1.8, 1.8] (bit for bit, as actuator() forms them), all 37 occur,
// the known minimiser reaches every one exactly (the floor is 0, so the issue's
// 1/5-of-the-surrogate goal can be measured there), and the states are those
// of a U(-1, 1) draw, as in `simulator`.
TEST(Usecases, SimulatorLevelsVariantHasReachableTargets) {
  const auto& t = task("simulator-levels");
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const auto d = t.generate(seed);
    const auto e = d.target_test.select(1, 0).unsqueeze(1), s = d.target_test.select(1, 1).unsqueeze(1);
    // e is on the quantiser's grid: q(e) = e, bit for bit
    const auto on_grid = 0.1 * torch::round(e / 0.1);
    EXPECT_TRUE(torch::equal(on_grid, e)) << "seed " << seed;
    EXPECT_LE(e.abs().max().item<double>(), 1.8 + 1e-6);
    EXPECT_EQ(std::get<0>(at::_unique(torch::cat({d.target_train.select(1, 0), d.target_test.select(1, 0)}))).numel(),
              37)
        << "seed " << seed;
    EXPECT_EQ((actuator(d.truth_test, s) - e).abs().max().item<double>(), 0.0) << "seed " << seed;
    EXPECT_EQ(t.error(d.truth_test, d), 0.0) << "seed " << seed;
    EXPECT_GE(s.min().item<double>(), -1.0);
    EXPECT_LT(s.max().item<double>(), 1.0);
  }
  // Not the same rows as `simulator` (its e is continuous: off the grid almost everywhere).
  const auto c = task("simulator").generate(1).target_test.select(1, 0);
  EXPECT_FALSE(torch::equal(0.1 * torch::round(c / 0.1), c));
}

TEST(Usecases, ZeroOneLossAndArmsThatApply) {
  const auto& t = task("zero-one-iris");
  const auto y = torch::tensor({{2.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 3.0f}}).unsqueeze(0);
  EXPECT_TRUE(torch::equal(t.loss(y, torch::tensor({0, 1})).flatten(), torch::tensor({0.0f, 1.0f})));
  EXPECT_FALSE(t.applies(Arm::Adam));
  EXPECT_FALSE(t.applies(Arm::AdaSwarmSearch));
  EXPECT_FALSE(t.applies(Arm::Ideal));
  EXPECT_TRUE(t.applies(Arm::Surrogate));
  EXPECT_FALSE(task("unwrap").applies(Arm::AdaSwarmTargets));
  EXPECT_FALSE(task("unwrap").applies(Arm::Surrogate));
  EXPECT_TRUE(task("multiwell").applies(Arm::AdaSwarmTargets));
  EXPECT_THROW(run_one(t, Arm::Ideal, 1), std::invalid_argument);
  EXPECT_THROW(select_tasks(kDataDir, {"nope"}), std::invalid_argument);
  EXPECT_THROW(arm_from_string("best"), std::invalid_argument);
}

// The control: the custom default's swarm on a constant loss does not learn.
TEST(Usecases, ConstantControlDoesNotLearn) {
  for (const char* key : {"multiwell", "unwrap", "simulator"}) {
    const auto r = run_one(task(key), Arm::Constant, 1, 0.5);
    EXPECT_GT(r.error, 0.5 * r.untrained_error) << key;
    // ... and the swarm loss says its search was blind at every step.
    EXPECT_EQ(r.blind_share, 1.0) << key;
  }
}

// Where docs/usecases.md claims a win, a short run of the winning arm beats the
// untrained network (and its control).
TEST(Usecases, ShortRunsOfClaimedWinsBeatTheUntrainedNetwork) {
  for (const auto& [key, arm] : std::vector<std::pair<std::string, Arm>>{
           {"multiwell", Arm::AdaSwarm}, {"multiwell-hard", Arm::AdaSwarm}, {"unwrap", Arm::AdaSwarm},
           {"tof", Arm::AdaSwarmSearch}}) {
    const auto r = run_one(task(key), arm, 1, 0.5);
    const auto c = run_one(task(key), Arm::Constant, 1, 0.5);
    EXPECT_LT(r.error, 0.5 * r.untrained_error) << key << " " << to_string(arm);
    EXPECT_LT(r.error, c.error) << key << " " << to_string(arm);
    EXPECT_LT(r.blind_share, 0.1) << key << " " << to_string(arm);  // the loss gave the search a signal
  }
  EXPECT_TRUE(std::isnan(run_one(task("multiwell"), Arm::Adam, 1, 0.1).blind_share));  // no swarm, no share
}

// The kernel forms (the swarm arms' default; `usecases --tensor-losses` uses
// the tensor losses) compute the tensor losses: to float rounding where they
// take a cos (including candidates beyond kernel_math's cos domain, recomputed
// with std::cos), bit for bit where they round, clamp, look up or take an
// argmax (ties and boundaries included). A short kernel run of a claimed win
// still wins.
TEST(Usecases, KernelFormsEqualTheTensorLosses) {
  for (const auto& t : all_tasks(kDataDir)) ASSERT_TRUE(static_cast<bool>(t.kernel.fn)) << t.key;
  for (const char* key : {"multiwell", "multiwell-hard", "step", "unwrap", "tof"}) {
    const auto& t = task(key);
    const auto d = t.generate(3);
    const auto target = d.target_train.to(at::kFloat).contiguous();
    const int64_t B = target.size(0), P = 6;
    torch::manual_seed(5);
    auto pos = (torch::randn({P, B, 1}) * 3 + (std::string(key) == "tof" ? 10.0 : 0.0)).contiguous();
    pos[0][0][0] = 20000.0f;  // beyond kernel_math's domain for every scale here
    pos[1][1][0] = -15000.5f;
    std::vector<float> out(static_cast<size_t>(P * B));
    t.kernel.fn(pos.data_ptr<float>(), P, B, 1, target, out.data());
    const auto want = t.loss(pos, target).reshape({P, B});
    const auto got = torch::from_blob(out.data(), {P, B}, at::kFloat);
    EXPECT_FALSE(got.isnan().any().item<bool>()) << key;
    // Out of the domain the cos argument reaches 2.5e5 rad, where one float ulp is
    // 0.016 rad: the two forms round it differently.
    EXPECT_LE((got - want).abs().max().item<double>(), 0.1) << key;
    // Inside the domain the agreement is that of float arithmetic.
    const auto inner = (got - want).abs().narrow(0, 2, P - 2).max().item<double>();
    EXPECT_LE(inner, 1e-5) << key;
  }
  // Rounding, clamping, lookups and argmax: the same bits, boundaries included.
  auto check_exact = [](const Task& t, const at::Tensor& pos, const at::Tensor& target) {
    const int64_t P = pos.size(0), B = pos.size(1), C = pos.size(2);
    std::vector<float> out(static_cast<size_t>(P * B * (t.element_wise ? C : 1)));
    t.kernel.fn(pos.data_ptr<float>(), P, B, C, target, out.data());
    const auto want = t.loss(pos, target).to(at::kFloat).contiguous();
    const auto got = torch::from_blob(out.data(), want.sizes(), at::kFloat);
    EXPECT_TRUE(torch::equal(got, want)) << t.key << ": max difference "
                                         << (got - want).abs().max().item<double>();
  };
  {
    // codebook: the midpoints between levels are ties (argmin takes the first level)
    const auto& t = task("codebook");
    const auto target = t.generate(3).target_train.to(at::kFloat).contiguous();
    const int64_t B = target.size(0), P = 5;
    torch::manual_seed(6);
    auto pos = (torch::randn({P, B, 1}) * 2.5).contiguous();
    const float ties[] = {-2.25f, -1.0f, 0.0f, 1.0f, 2.25f, -0.0f, 9.0f, -9.0f, 0.5f, -3.0f};
    for (int64_t k = 0; k < 10; ++k) pos[0][k][0] = ties[k];
    check_exact(t, pos, target);
  }
  for (const char* key : {"simulator", "simulator-levels"}) {
    // simulator: the dead zone's edges, saturation, quantisation midpoints
    const auto& t = task(key);
    const auto target = t.generate(3).target_train.to(at::kFloat).contiguous();
    const int64_t B = target.size(0), P = 5;
    torch::manual_seed(7);
    auto pos = (torch::randn({P, B, 1}) * 2).contiguous();
    const float edges[] = {0.3f, -0.3f, 0.0f, -0.0f, 0.35f, -0.45f, 0.55f, 10.0f, -10.0f, 2.3f, -2.3f, 0.25f};
    for (int64_t k = 0; k < 12; ++k) pos[0][k][0] = edges[k];
    // dense around the quantiser's steps: u = 0.3 + (j + 0.5) * 0.1 / g(s)
    pos[1].copy_((0.3 + (torch::arange(B).to(at::kFloat).remainder(20) + 0.5) * 0.1 /
                             (1 + 0.5 * target.select(1, 1)))
                      .unsqueeze(1));
    check_exact(t, pos, target);
  }
  for (const char* key : {"zero-one-iris", "zero-one-breast-cancer", "zero-one-wine"}) {
    // 0-1: argmax ties take the first class
    const auto& t = task(key);
    const auto target = t.generate(3).target_train.narrow(0, 0, 40).contiguous();
    const int64_t B = target.size(0), P = 4, C = t.outputs;
    torch::manual_seed(8);
    auto pos = torch::randn({P, B, C}).contiguous();
    pos[0] = torch::zeros({B, C});  // every row a tie
    pos[1].narrow(0, 0, B / 2).select(1, C - 1).copy_(pos[1].narrow(0, 0, B / 2).select(1, 0));
    check_exact(t, pos, target);
  }
  const auto r = run_one(task("unwrap"), Arm::AdaSwarm, 1, 0.5, "", true);
  const auto plain = run_one(task("unwrap"), Arm::AdaSwarm, 1, 0.5, "", false);
  EXPECT_LT(r.error, 0.5 * r.untrained_error);
  EXPECT_NE(r.error, plain.error);  // the kernel was used (other rounding, other trajectory)
  UsecasesConfig a, b;
  EXPECT_TRUE(a.kernels);  // the default
  b.kernels = false;
  EXPECT_NE(fingerprint(a), fingerprint(b));  // resume refuses to mix them
}

TEST(Usecases, RunnerIsIndependentOfJobsAndResumes) {
  adaswarm::testing::TempDir dir("usecases");
  UsecasesConfig c;
  c.tasks = select_tasks(kDataDir, {"multiwell", "simulator"});
  c.arms = {Arm::Adam, Arm::AdaSwarm, Arm::SPSA};
  c.seeds = 2;
  c.epoch_scale = 0.05;
  c.progress = false;
  c.jobs = 1;
  const auto one = run_usecases(c);
  c.jobs = 2;
  c.out_dir = dir / "two";
  const auto two = run_usecases(c);
  ASSERT_EQ(one.runs.size(), 12u);
  ASSERT_EQ(two.runs.size(), 12u);
  for (size_t i = 0; i < one.runs.size(); ++i) {
    EXPECT_EQ(one.runs[i].key(), two.runs[i].key());
    EXPECT_EQ(one.runs[i].error, two.runs[i].error) << one.runs[i].key();
    EXPECT_EQ(one.runs[i].evaluations, two.runs[i].evaluations) << one.runs[i].key();
  }
  // SPSA gets the swarm's loss evaluations per step
  for (const auto& r : one.runs)
    if (r.arm == "spsa" || r.arm == "adaswarm") EXPECT_EQ(r.evaluations, 60 * r.steps) << r.key();
  // interrupted, then resumed: the same results
  c.out_dir = dir / "resumed";
  c.max_runs = 5;
  const auto part = run_usecases(c);
  EXPECT_EQ(part.executed, 5);
  EXPECT_EQ(part.remaining, 7);
  c.max_runs = -1;
  c.resume = true;
  const auto rest = run_usecases(c);
  EXPECT_EQ(rest.resumed, 5);
  EXPECT_EQ(rest.executed, 7);
  for (size_t i = 0; i < one.runs.size(); ++i) EXPECT_EQ(one.runs[i].error, rest.runs[i].error);
  // a file written with other settings is refused
  c.epoch_scale = 0.1;
  EXPECT_THROW(run_usecases(c), std::runtime_error);
  // reports: existing results are refused without resume / overwrite
  c.epoch_scale = 0.05;
  c.resume = false;
  EXPECT_THROW(run_and_report(c), std::runtime_error);
  c.overwrite = true;
  const auto rep = run_and_report(c);
  EXPECT_NE(rep.text.find("verdict adaswarm: not shown"), std::string::npos) << rep.text;  // 2 seeds: never a win
  EXPECT_TRUE(std::filesystem::exists(dir / "resumed/usecases.json"));
}

#ifdef ADASWARM_CLI_PATH
TEST(UsecasesCli, RejectsBadFlagsNamingThem) {
  adaswarm::testing::TempDir dir("usecases_cli");
  const std::string cli = std::string(ADASWARM_CLI_PATH) + " usecases --no-progress --out " + (dir / "o");
  for (const auto& [flags, name] : std::vector<std::pair<std::string, std::string>>{
           {"--seeds 0", "--seeds"},
           {"--jobs 0", "--jobs"},
           {"--jobs 100000", "--jobs"},
           {"--first-seed -1", "--first-seed"},
           {"--tasks multiwell,nope", "nope"},
           {"--arms adam,best", "--arms"},
           {"--resume --overwrite", "--overwrite"},
           {"--kernels --tensor-losses", "--tensor-losses"},
           {"--seeds x", "--seeds"}}) {
    const auto [rc, out] = shell(cli + " " + flags);
    EXPECT_NE(rc, 0) << flags;
    EXPECT_NE(out.find(name), std::string::npos) << flags << ": " << out;
  }
  // a tiny run, then the same --out again is refused
  const std::string tiny = cli + " --tasks multiwell --arms adam,adaswarm --seeds 1 --jobs 1 --quick";
  auto [rc1, out1] = shell(tiny);
  ASSERT_EQ(rc1, 0) << out1;
  EXPECT_NE(out1.find("multiwell"), std::string::npos);
  auto [rc2, out2] = shell(tiny);
  EXPECT_NE(rc2, 0);
  EXPECT_NE(out2.find("--resume"), std::string::npos) << out2;
  auto [rc3, out3] = shell(tiny + " --resume");
  EXPECT_EQ(rc3, 0) << out3;
  auto [rc4, out4] = shell(tiny + " --resume --tensor-losses");  // other settings: refused
  EXPECT_NE(rc4, 0) << out4;
  EXPECT_NE(out4.find("runs.jsonl"), std::string::npos) << out4;
  // the advice works: dropping --resume would only be refused as "exists"
  EXPECT_NE(out4.find("pass --overwrite to start over, or choose another --out"), std::string::npos) << out4;
  EXPECT_EQ(out4.find("drop --resume"), std::string::npos) << out4;
  auto [rc5, out5] = shell(tiny + " --overwrite --tensor-losses");
  EXPECT_EQ(rc5, 0) << out5;
}
#endif

// A kept record is range-checked field by field: a hand-edited runs.jsonl
// (a negative error, a share above 1, steps that are not an integer) is refused
// naming the file, the line and the field, and a valid record still resumes.
TEST(Usecases, ResumeRefusesARecordOutsideItsRanges) {
  adaswarm::testing::TempDir dir("usecases_records");
  UsecasesConfig c;
  c.tasks = select_tasks(kDataDir, {"multiwell"});
  c.arms = {Arm::AdaSwarm};
  c.seeds = 1;
  c.epoch_scale = 0.02;
  c.progress = false;
  c.jobs = 1;
  c.out_dir = dir / "out";
  const auto first = run_usecases(c);
  ASSERT_EQ(first.runs.size(), 1u);
  const std::string path = (std::filesystem::path(c.out_dir) / "runs.jsonl").string();
  const auto lines = adaswarm::util::read_complete_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  const auto j = nlohmann::json::parse(lines[0]);
  ASSERT_TRUE(j.at("moved_share").is_number()) << lines[0];  // a swarm arm: the shares are numbers
  c.resume = true;
  auto with = [&](const char* key, const nlohmann::json& value) {
    auto bad = j;
    bad[key] = value;
    adaswarm::util::write_file_atomic(path, bad.dump() + "\n");
  };
  const std::vector<std::tuple<const char*, nlohmann::json, std::string>> cases = {
      {"error", -0.5, "'error' must be >= 0, got -0.5"},
      {"moved_share", 1.5, "'moved_share' must be in [0, 1], got 1.5"},
      {"blind_share", "all", "'blind_share' must be a number or null, got \"all\""},
      {"steps", 2.5, "'steps' must be an integer, got 2.5"},
      {"evaluations", -1, "'evaluations' must be >= 0, got -1"},
      {"seconds", nullptr, "'seconds' must be a number, got null"},
      {"seed", -1, "'seed' must be an integer >= 0, got -1"}};
  for (const auto& [key, value, reason] : cases) {
    with(key, value);
    try {
      run_usecases(c);
      ADD_FAILURE() << key << " = " << value.dump() << " resumed";
    } catch (const std::runtime_error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(path + ":1: a finished run's record is malformed"), std::string::npos) << m;
      EXPECT_NE(m.find(reason), std::string::npos) << m;
    }
  }
  with("error", nullptr);  // a diverged run: NaN, kept
  const auto resumed = run_usecases(c);
  EXPECT_EQ(resumed.resumed, 1);
  EXPECT_EQ(resumed.executed, 0);
  ASSERT_EQ(resumed.runs.size(), 1u);
  EXPECT_TRUE(std::isnan(resumed.runs[0].error));
  EXPECT_EQ(resumed.runs[0].steps, first.runs[0].steps);
  EXPECT_EQ(resumed.runs[0].moved_share, first.runs[0].moved_share);
}

// The shared runs-file and job-pool helpers (util/runs_file.h).
TEST(RunsFile, KeepsCompleteLinesChecksTheFingerprintAndPoolsJobs) {
  adaswarm::testing::TempDir dir("runs_file");
  const std::string path = dir / "sub/runs.jsonl";
  EXPECT_TRUE(adaswarm::util::open_runs_file(path, "fp1", false).empty());
  adaswarm::util::append_line(path, R"({"fingerprint":"fp1","n":1})");
  { std::ofstream(path, std::ios::app) << R"({"fingerprint":"fp1","n":)"; }  // a torn last line
  const auto kept = adaswarm::util::open_runs_file(path, "fp1", true);
  ASSERT_EQ(kept.size(), 1u);
  adaswarm::util::append_line(path, R"({"fingerprint":"fp1","n":2})");
  EXPECT_EQ(adaswarm::util::read_complete_lines(path).size(), 2u);  // the append starts on a fresh line
  try {
    adaswarm::util::open_runs_file(path, "fp2", true);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("runs.jsonl:1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fp2"), std::string::npos) << e.what();
  }
  std::vector<int> seen(50, 0);
  adaswarm::util::run_jobs(seen.size(), 2, [&](size_t i) { seen[i] += 1; });
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 50);
  EXPECT_THROW(adaswarm::util::run_jobs(10, 2, [](size_t i) {
                 if (i == 3) throw std::domain_error("item 3");
               }),
               std::domain_error);
}
