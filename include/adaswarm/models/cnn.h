// The AdaSwarm paper's simple CNN (section V-D; the Keras MNIST example):
// conv 3x3 32 (ReLU) -> conv 3x3 64 (ReLU) -> max-pool 2 -> dropout 0.25 ->
// flatten -> dense 128 (ReLU) -> dropout 0.5 -> dense `classes`. Unpadded
// convolutions; 1,199,882 weights for 1x28x28 input and 10 classes. The
// flatten size follows the input (CIFAR: 3x32x32 -> 64x14x14).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace adaswarm::models {

struct SimpleCNNOptions {
  TORCH_ARG(int64_t, in_channels) = 1;
  TORCH_ARG(int64_t, height) = 28;
  TORCH_ARG(int64_t, width) = 28;
  TORCH_ARG(int64_t, classes) = 10;
  TORCH_ARG(double, dropout1) = 0.25;
  TORCH_ARG(double, dropout2) = 0.5;
};

class SimpleCNNImpl : public torch::nn::Module {
 public:
  explicit SimpleCNNImpl(SimpleCNNOptions options = {});
  /// x [B, in_channels, height, width] -> logits [B, classes].
  torch::Tensor forward(torch::Tensor x);
  const SimpleCNNOptions& options() const { return options_; }
  /// Features entering the dense layer: 64 * ((H - 4) / 2) * ((W - 4) / 2).
  int64_t flatten_size() const { return flat_; }

 private:
  SimpleCNNOptions options_;
  int64_t flat_ = 0;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Dropout drop1{nullptr}, drop2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(SimpleCNN);

/// Number of trainable scalars of a module.
int64_t count_parameters(const torch::nn::Module& m);

}  // namespace adaswarm::models
