// Whole-network weight search (SPEC.md section 6) on the PGSO paper's churn set.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <string>

#include "adaswarm/pgso/gso.h"
#include "adaswarm/pgso/network.h"
#include "adaswarm/util/random.h"

using namespace adaswarm::pgso;

namespace {
const std::string kChurn = std::string(ADASWARM_SHARED_DATA) + "/pgso/Churn_Modelling.csv";
const std::string kNba = std::string(ADASWARM_SHARED_DATA) + "/pgso/nba_logreg.csv";
// Modules store float32: equal to float precision.
void expect_close(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6 * std::max(1.0, std::fabs(b[i]))) << i;
}
}  // namespace

TEST(PgsoNetwork, LoadsThePapersDataSets) {
  const Dataset c = load_churn(kChurn, 0.2, 1);
  EXPECT_EQ(c.x_train.size(1), 11);
  EXPECT_EQ(c.x_train.size(0) + c.x_test.size(0), 10000);
  EXPECT_EQ(c.x_test.size(0), 2000);
  // Standardised with training statistics; ~20% churners.
  EXPECT_NEAR(c.x_train.mean(0).abs().max().item<double>(), 0.0, 1e-4);
  EXPECT_NEAR(c.y_train.mean().item<double>(), 0.2037, 0.02);
  const Dataset n = load_nba(kNba, 0.2, 1);
  EXPECT_EQ(n.x_train.size(1), 19);
  EXPECT_EQ(n.x_train.size(0) + n.x_test.size(0), 1340);
  EXPECT_FALSE(torch::isnan(n.x_train).any().item<bool>());  // empty values filled
  // Same seed, same split; another seed, another split.
  EXPECT_TRUE(torch::equal(load_churn(kChurn, 0.2, 1).y_test, c.y_test));
  EXPECT_FALSE(torch::equal(load_churn(kChurn, 0.2, 2).x_test, c.x_test));
}

TEST(PgsoNetwork, BadCsvIsReportedWithFileAndLine) {
  const std::string path = ::testing::TempDir() + "/pgso_bad.csv";
  {
    std::ofstream f(path);
    f << "a,b,y\n1,2,0\n3,x,1\n";
  }
  try {
    load_csv(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path + ":3"), std::string::npos) << m;
    EXPECT_NE(m.find("'b'"), std::string::npos) << m;
  }
  EXPECT_THROW(load_csv(path + ".missing"), std::runtime_error);
}

TEST(PgsoNetwork, BatchedMlpMatchesTheModuleAndTheClonedEvaluator) {
  const Dataset d = load_churn(kChurn, 0.2, 1);
  BatchedMlpObjective mlp({11, 6, 1});
  EXPECT_EQ(mlp.dim(), 72);
  auto module = mlp.to_module();
  expect_close(flatten_parameters(*module), mlp.parameters());
  ClonedModuleObjective cloned(
      module, [](torch::nn::Module& m, const at::Tensor& x) { return dynamic_cast<torch::nn::SequentialImpl&>(m).forward(x); },
      2);
  const int64_t P = 6;
  adaswarm::Rng rng(5);
  std::vector<double> W(P * 72), a(P), b(P);
  for (auto& w : W) w = rng.uniform(-1, 1);
  const auto x = d.x_train.narrow(0, 0, 500), y = d.y_train.narrow(0, 0, 500);
  mlp.evaluate(0, W.data(), P, x, y, a.data());
  cloned.evaluate(1, W.data(), P, x, y, b.data());
  for (int64_t i = 0; i < P; ++i) {
    EXPECT_NEAR(a[i], b[i], 1e-5);
    // and against autograd-free plain LibTorch code for particle i
    auto w1 = torch::tensor(std::vector<double>(W.begin() + i * 72, W.begin() + i * 72 + 66)).reshape({6, 11}).to(torch::kFloat);
    auto w2 = torch::tensor(std::vector<double>(W.begin() + i * 72 + 66, W.begin() + (i + 1) * 72)).reshape({1, 6}).to(torch::kFloat);
    const auto z = torch::relu(x.matmul(w1.t())).matmul(w2.t());
    const auto p = torch::sigmoid(z);
    const double bce = -(y * torch::log(p) + (1 - y) * torch::log(1 - p)).mean().item<double>();
    EXPECT_NEAR(a[i], bce, 1e-4);
  }
  // Different particles, different losses.
  EXPECT_NE(a[0], a[1]);
}

TEST(PgsoNetwork, TorchThreadsGuardRestores) {
  const int before = at::get_num_threads();
  {
    TorchThreadsGuard g(1);
    EXPECT_EQ(at::get_num_threads(), 1);
  }
  EXPECT_EQ(at::get_num_threads(), before);
}

// Stated value: PGSO (3 subswarms x 60 particles, 10 iterations, 6 epochs of
// 400-row batches) brings the churn 11-6-1 net's training BCE below 0.45 (the
// start is ~0.7; predicting the 20% base rate gives 0.50), deterministically for
// 1 and 2 threads.
TEST(PgsoNetwork, PgsoLowersTheLossOfAChurnMlp) {
  const Dataset d = load_churn(kChurn, 0.2, 1);
  BatchedMlpObjective mlp({11, 6, 1});
  const double start = bce_and_accuracy(mlp.forward(d.x_train), d.y_train).first;
  const auto o = WeightSearchOptions().particles(60).iterations(10).epochs(6).seed(3);
  const auto r1 = search_weights(mlp, d, WeightSearchOptions(o).threads(1));
  EXPECT_LT(r1.train_loss, 0.45);
  EXPECT_LT(r1.train_loss, start);
  EXPECT_GT(r1.test_accuracy, 0.79);
  // The best weights were written back.
  EXPECT_EQ(mlp.parameters(), r1.weights);
  EXPECT_NEAR(bce_and_accuracy(mlp.forward(d.x_train), d.y_train).first, r1.train_loss, 1e-9);
  for (size_t i = 1; i < r1.log.size(); ++i) EXPECT_LE(r1.log[i].train_loss, r1.log[i - 1].train_loss + 1e-12);
  BatchedMlpObjective mlp2({11, 6, 1});
  const auto r2 = search_weights(mlp2, d, WeightSearchOptions(o).threads(2));
  EXPECT_EQ(r1.weights, r2.weights);
  EXPECT_EQ(r1.evaluations, r2.evaluations);
}

TEST(PgsoNetwork, PsoAndClonedModulesWorkToo) {
  const Dataset d = load_nba(kNba, 0.2, 1);
  auto seq = torch::nn::Sequential(torch::nn::Linear(torch::nn::LinearOptions(19, 6).bias(false)), torch::nn::ReLU(),
                                   torch::nn::Linear(torch::nn::LinearOptions(6, 1).bias(false)));
  ClonedModuleObjective obj(
      seq.ptr(), [](torch::nn::Module& m, const at::Tensor& x) { return dynamic_cast<torch::nn::SequentialImpl&>(m).forward(x); },
      4);
  const double start = bce_and_accuracy(obj.forward(d.x_train), d.y_train).first;
  const auto r = search_weights(obj, d, WeightSearchOptions().algorithm("pso").particles(30).iterations(8).epochs(3).seed(1));
  EXPECT_LT(r.train_loss, start);
  EXPECT_LT(r.train_loss, 0.69);
  expect_close(flatten_parameters(*seq), r.weights);  // written into the caller's module
  EXPECT_THROW(search_weights(obj, d, WeightSearchOptions().algorithm("sgd")), std::invalid_argument);
}

TEST(PgsoNetwork, AdamBaselineTrains) {
  const Dataset d = load_nba(kNba, 0.2, 1);
  const auto r = train_adam({19, 6, 1}, false, d, AdamOptions().epochs(5).lr(1e-2));
  EXPECT_LT(r.train_loss, 0.65);
  EXPECT_GT(r.test_accuracy, 0.6);
}
