// The AdaSwarm paper's Tables I-III / Fig. 1 experiment code and the
// `adaswarm functions` subcommand.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>
#include <sstream>
#include <string>
#include <vector>

#include "adaswarm/experiments/functions1d.h"

using namespace adaswarm::experiments;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> split(const std::string& s, char c) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, c)) out.push_back(item);
  if (!s.empty() && s.back() == c) out.push_back("");
  return out;
}
std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}
bool is_number(const std::string& s) {
  if (s == "nan") return true;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}
}  // namespace

TEST(Functions1D, EightFunctionsWithCorrectDerivatives) {
  ASSERT_EQ(functions1d().size(), 8u);
  EXPECT_EQ(table_functions(1).size(), 4u);
  EXPECT_EQ(table_functions(3).size(), 4u);
  EXPECT_EQ(paper_rows().size(), 12u);
  for (const auto& fn : functions1d()) {
    for (double x : {-0.7, 0.35, 0.9}) {
      if (!(x > fn.lo && x < fn.hi) || x <= fn.domain_lo) continue;
      const double h = 1e-6, fd = (fn.f(x + h) - fn.f(x - h)) / (2 * h);
      EXPECT_NEAR(fn.df(x), fd, 1e-5 * std::max(1.0, std::abs(fd))) << fn.key << " at " << x;
    }
    EXPECT_TRUE(std::isfinite(fn.f(fn.x0))) << fn.key;
  }
  // Where the gradient does not exist / conventions.
  EXPECT_TRUE(std::isnan(function1d("sqrt").df(0.0)));
  EXPECT_TRUE(std::isinf(function1d("sqrt").f(-1.0)));
  EXPECT_EQ(function1d("abs").df(0.0), 0.0);
  EXPECT_EQ(function1d("piecewise").df(0.0), 0.0);
  EXPECT_THROW(function1d("nope"), std::invalid_argument);
}

TEST(Functions1D, TrueOptimaAreTheValuesThePaperPrints) {
  // The paper's "Global Minimum" column holds f(x*), not x*.
  const auto p10 = true_optimum(function1d("poly10"));
  EXPECT_NEAR(p10.x, std::pow(1.5, 0.2), 1e-6);
  EXPECT_NEAR(p10.f, -2.25, 1e-9);
  EXPECT_NEAR(true_optimum(function1d("cubic")).x, 2.0, 1e-6);
  EXPECT_NEAR(true_optimum(function1d("cubic")).f, 3.0, 1e-9);
  EXPECT_NEAR(true_optimum(function1d("expcos")).f, -std::exp(1.0), 1e-9);
  EXPECT_NEAR(true_optimum(function1d("poly15")).f, 0.4747, 1e-4);
  for (const char* k : {"sqrt", "abs", "cbrt-sin", "piecewise"}) EXPECT_NEAR(true_optimum(function1d(k)).f, 0.0, 1e-9) << k;
  for (const auto& row : paper_rows()) {
    const double fstar = true_optimum(function1d(row.key)).f;
    EXPECT_NEAR(row.global_min, fstar, 2e-3) << row.key;
  }
}

TEST(Functions1D, GradientMethodsFollowTheStatedRules) {
  ExperimentOptions o;
  // GD on the cubic from 1: contraction 1 - eta f''(2) = 0.4 per step.
  const auto gd = run_gradient_method(function1d("cubic"), 1.0, 0.0, o);
  EXPECT_EQ(gd.status, "converged");
  EXPECT_NEAR(gd.x, 2.0, 1e-3);
  EXPECT_LT(gd.iterations, 30);
  const auto sgd = run_gradient_method(function1d("cubic"), 1.0, 0.9, o);
  EXPECT_EQ(sgd.method, "sgd-momentum");
  EXPECT_NEAR(sgd.f, 3.0, 1e-3);
  EXPECT_GT(sgd.iterations, gd.iterations);  // eq. 16 momentum is slower here
  // sqrt: GD reaches x = 0, where f' does not exist (projected), or leaves the domain.
  EXPECT_EQ(run_gradient_method(function1d("sqrt"), 1.0, 0.0, o).status, "no-gradient");
  EXPECT_EQ(run_gradient_method(function1d("sqrt"), 1.0, 0.0, ExperimentOptions().project(false)).status,
            "left-domain");
  // |x| with a constant step never settles: runs to the iteration limit.
  EXPECT_EQ(run_gradient_method(function1d("abs"), 1.05, 0.9, o).status, "max-iterations");
  EXPECT_THROW(ExperimentOptions().eta(0).validate(), std::invalid_argument);
  EXPECT_THROW(ExperimentOptions().particles(0).validate(), std::invalid_argument);
}

TEST(Functions1D, EmulatedGDReachesEveryOptimumFromTheFixedStart) {
  ExperimentOptions o;
  o.runs(0);
  for (int t : {1, 2, 3}) {
    const auto rows = run_table(t, o);
    for (const auto& r : rows) {
      EXPECT_TRUE(r.emulated_fixed.hit) << "table " << t << " " << r.fn.key << " f " << r.emulated_fixed.f;
      EXPECT_LE(r.emulated_fixed.iterations, 100) << r.fn.key;
    }
  }
}

TEST(Functions1D, TablesAreDeterministicForASeed) {
  ExperimentOptions o;
  o.runs(3).seed(11);
  const auto a = table_csv(run_table(2, o)), b = table_csv(run_table(2, o));
  EXPECT_EQ(a, b);
  o.seed(12);
  EXPECT_NE(table_csv(run_table(2, o)), a);
}

TEST(Functions1D, Fig1DataHasTheRightSigns) {
  ExperimentOptions o;
  const auto data = fig1_data(o, 21);
  ASSERT_EQ(data.size(), 8u * 21u);
  int agree = 0, total = 0;
  for (const auto& p : data) {
    if (!std::isfinite(p.true_gradient) || std::abs(p.true_gradient) < 1e-2) continue;
    ++total;
    agree += (p.true_gradient > 0) == (p.approx_gradient > 0);
  }
  EXPECT_GE(agree, total * 9 / 10) << agree << " / " << total;
}

TEST(Functions1D, AtomicWriteLeavesNoTempFile) {
  const fs::path dir = fs::temp_directory_path() / ("adaswarm_fn_atomic_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_file_atomically((dir / "a.csv").string(), "x\n1\n");
  write_file_atomically((dir / "a.csv").string(), "x\n2\n");
  EXPECT_EQ(lines_of(dir / "a.csv"), (std::vector<std::string>{"x", "2"}));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
  EXPECT_THROW(write_file_atomically((dir / "missing" / "a.csv").string(), "x"), std::runtime_error);
  fs::remove_all(dir);
}

#ifdef ADASWARM_CLI_PATH
TEST(FunctionsCli, RunsAndWritesWellFormedCsv) {
  const fs::path dir = fs::temp_directory_path() / ("adaswarm_fn_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string cmd = std::string(ADASWARM_CLI_PATH) + " functions --table all --runs 2 --seed 5 --csv-dir " +
                          (dir / "csv").string() + " --fig1 " + (dir / "fig1.csv").string() +
                          " --fig1-points 11 > " + (dir / "out.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream out(dir / "out.txt");
  const std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  for (const char* s : {"Table I", "Table II", "Table III", "stopping rule", "-2.25", "particle 0 starts at x"})
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;

  for (int t : {1, 2, 3}) {
    const auto lines = lines_of(dir / "csv" / ("table" + std::to_string(t) + ".csv"));
    ASSERT_EQ(lines.size(), 1u + 4u * 2u * 3u) << "table " << t;  // header + 4 fns x 2 methods x (fixed + 2)
    const auto header = split(lines[0], ',');
    ASSERT_EQ(header.size(), 16u);
    for (size_t i = 1; i < lines.size(); ++i) {
      const auto f = split(lines[i], ',');
      ASSERT_EQ(f.size(), header.size()) << lines[i];
      EXPECT_EQ(f[0], std::to_string(t));
      for (size_t c : {2, 3, 4, 5, 9, 10, 11, 12, 13}) EXPECT_TRUE(is_number(f[c])) << lines[i];
    }
  }
  const auto fig = lines_of(dir / "fig1.csv");
  ASSERT_EQ(fig.size(), 1u + 8u * 11u);
  EXPECT_EQ(fig[0], "function,x,true_gradient,approx_gradient,cbar,g");
  for (size_t i = 1; i < fig.size(); ++i) {
    const auto f = split(fig[i], ',');
    ASSERT_EQ(f.size(), 6u) << fig[i];
    for (size_t c = 1; c < 6; ++c) EXPECT_TRUE(is_number(f[c])) << fig[i];
  }
  // Bad options: exit 1 with a clear message.
  const std::string bad = std::string(ADASWARM_CLI_PATH) + " functions --eta 0 --runs 0 > " +
                          (dir / "bad.txt").string() + " 2>&1";
  EXPECT_NE(std::system(bad.c_str()), 0);
  std::ifstream b(dir / "bad.txt");
  const std::string btxt((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
  EXPECT_NE(btxt.find("eta"), std::string::npos) << btxt;
  fs::remove_all(dir);
}
#endif
