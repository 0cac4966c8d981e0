// A multilayer perceptron: inputs -> hidden sizes (activation each) -> outputs
// (optional output activation). The UCI tables use in -> 10 (ReLU) -> classes.
//
//   adaswarm::models::MLP net(adaswarm::models::MLPOptions(4, 3).hidden({10}));
//   net->reset_parameters(/*seed=*/7);   // deterministic without the global RNG
#pragma once
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace adaswarm::models {

enum class Activation { ReLU, Sigmoid, Tanh, None, Softmax };
const char* to_string(Activation a);
/// relu, sigmoid, tanh, none (identity), softmax; throws std::invalid_argument.
Activation activation_from_string(const std::string& s);

struct MLPOptions {
  MLPOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{10};
  /// After every hidden layer (ReLU, Sigmoid, Tanh or None).
  TORCH_ARG(Activation, activation) = Activation::ReLU;
  /// After the last layer: None (logits), Sigmoid or Softmax (over dim 1).
  TORCH_ARG(Activation, output_activation) = Activation::None;
  TORCH_ARG(bool, bias) = true;
};

class MLPImpl : public torch::nn::Cloneable<MLPImpl> {
 public:
  explicit MLPImpl(MLPOptions options);
  void reset() override;
  /// LibTorch's default Linear initialisation (kaiming-uniform(a = sqrt 5)
  /// weights, uniform(+-1/sqrt(fan_in)) biases) drawn from a private generator
  /// seeded with `seed`, so parallel runs do not share the global RNG.
  void reset_parameters(uint64_t seed);
  /// x: [B, in_features] -> [B, out_features].
  at::Tensor forward(const at::Tensor& x);
  /// The output before output_activation.
  at::Tensor logits(const at::Tensor& x);

  MLPOptions options;
  std::vector<torch::nn::Linear> layers;
};
TORCH_MODULE(MLP);

}  // namespace adaswarm::models
