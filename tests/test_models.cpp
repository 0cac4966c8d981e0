// The paper's simple CNN and the CIFAR-style ResNet-18: parameter counts
// (from the layer arithmetic, and the published figures), output shapes, layout.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "adaswarm/experiments/trainer.h"
#include "adaswarm/models/cnn.h"
#include "adaswarm/models/resnet.h"

using namespace adaswarm::models;

namespace {
int64_t conv(int64_t in, int64_t out, int64_t k, bool bias) { return in * out * k * k + (bias ? out : 0); }
int64_t dense(int64_t in, int64_t out) { return in * out + out; }
int64_t bn(int64_t c) { return 2 * c; }

// The simple CNN by hand: conv(3x3, 32), conv(3x3, 64), pool 2, dense 128, dense classes.
int64_t cnn_count(int64_t ch, int64_t h, int64_t w, int64_t classes) {
  const int64_t flat = 64 * ((h - 4) / 2) * ((w - 4) / 2);
  return conv(ch, 32, 3, true) + conv(32, 64, 3, true) + dense(flat, 128) + dense(128, classes);
}

// ResNet-18 by hand: stem, 4 stages x 2 BasicBlocks, 1x1 projection where the shape changes, linear.
int64_t resnet18_count(int64_t ch, int64_t classes) {
  int64_t n = conv(ch, 64, 3, false) + bn(64);
  int64_t in = 64;
  for (int64_t planes : {64, 128, 256, 512})
    for (int b = 0; b < 2; ++b) {
      n += conv(in, planes, 3, false) + bn(planes) + conv(planes, planes, 3, false) + bn(planes);
      if (in != planes) n += conv(in, planes, 1, false) + bn(planes);
      in = planes;
    }
  return n + dense(512, classes);
}
}  // namespace

TEST(SimpleCNN, PaperParameterCountOnMnist) {
  SimpleCNN m;
  EXPECT_EQ(count_parameters(*m), 1199882);  // the paper's figure
  EXPECT_EQ(count_parameters(*m), cnn_count(1, 28, 28, 10));
  EXPECT_EQ(m->flatten_size(), 9216);
  auto y = m->forward(torch::randn({4, 1, 28, 28}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{4, 10}));
}

TEST(SimpleCNN, CifarVariantAdaptsTheFlattenSize) {
  SimpleCNN m(SimpleCNNOptions().in_channels(3).height(32).width(32).classes(10));
  EXPECT_EQ(m->flatten_size(), 64 * 14 * 14);
  EXPECT_EQ(count_parameters(*m), cnn_count(3, 32, 32, 10));
  EXPECT_EQ(count_parameters(*m), 1626442);
  EXPECT_EQ(m->forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 10}));
  SimpleCNN h(SimpleCNNOptions().in_channels(3).height(32).width(32).classes(100));
  EXPECT_EQ(h->forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 100}));
  EXPECT_THROW(SimpleCNN(SimpleCNNOptions().height(5).width(5)), std::invalid_argument);
}

TEST(SimpleCNN, DropoutOnlyInTraining) {
  torch::manual_seed(3);
  SimpleCNN m;
  auto x = torch::randn({3, 1, 28, 28});
  m->eval();
  EXPECT_TRUE(torch::equal(m->forward(x), m->forward(x)));
  m->train();
  EXPECT_FALSE(torch::equal(m->forward(x), m->forward(x)));
}

TEST(ResNet18, ParameterCounts) {
  EXPECT_EQ(count_parameters(*resnet18(3, 10)), 11173962);  // pytorch-cifar's ResNet18 on CIFAR-10
  EXPECT_EQ(count_parameters(*resnet18(3, 10)), resnet18_count(3, 10));
  EXPECT_EQ(count_parameters(*resnet18(3, 100)), resnet18_count(3, 100));
  EXPECT_EQ(count_parameters(*resnet18(1, 10)), resnet18_count(1, 10));
  EXPECT_EQ(count_parameters(*resnet18(1, 10)), 11173962 - 2 * 64 * 9);
}

TEST(ResNet18, LayoutAndOutputShapes) {
  auto m = resnet18(3, 100);
  auto params = m->named_parameters();
  EXPECT_EQ(params["conv1.weight"].sizes(), (std::vector<int64_t>{64, 3, 3, 3}));  // 3x3 stem
  EXPECT_EQ(params["linear.weight"].sizes(), (std::vector<int64_t>{100, 512}));
  EXPECT_TRUE(params.contains("layer2.0.shortcut.0.weight"));   // projection at the stride-2 block
  EXPECT_FALSE(params.contains("layer1.0.shortcut.0.weight"));  // identity in stage 1
  EXPECT_FALSE(params.contains("layer2.1.shortcut.0.weight"));
  int64_t blocks = 0;
  for (const auto& kv : m->named_children())
    if (kv.key().rfind("layer", 0) == 0) blocks += static_cast<int64_t>(kv.value()->children().size());
  EXPECT_EQ(blocks, 8);  // [2, 2, 2, 2]
  EXPECT_GT(m->named_buffers().size(), 0u);  // batch-norm running statistics
  m->eval();
  torch::NoGradGuard ng;
  EXPECT_EQ(m->forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 100}));
  auto g = resnet18(1, 10);
  g->eval();
  EXPECT_EQ(g->forward(torch::randn({3, 1, 28, 28})).sizes(), (std::vector<int64_t>{3, 10}));
}

TEST(ResNet18, BackwardReachesEveryParameter) {
  auto m = resnet18(3, 10);
  auto y = m->forward(torch::randn({2, 3, 32, 32}));
  y.sum().backward();
  for (const auto& p : m->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  }
}

TEST(ModelFactory, ByName) {
  namespace ex = adaswarm::experiments;
  auto cnn = ex::make_model("cnn", 1, 28, 28, 10);
  EXPECT_EQ(count_parameters(*cnn), 1199882);
  auto mlp = ex::make_model("mlp", 1, 28, 28, 10, 64);
  EXPECT_EQ(count_parameters(*mlp), dense(784, 64) + dense(64, 10));
  EXPECT_EQ(ex::model_forward(*mlp, torch::randn({5, 1, 28, 28})).sizes(), (std::vector<int64_t>{5, 10}));
  auto rn = ex::make_model("resnet18", 3, 32, 32, 100);
  EXPECT_EQ(count_parameters(*rn), resnet18_count(3, 100));
  EXPECT_THROW(ex::make_model("vgg", 1, 28, 28, 10), std::invalid_argument);
}
