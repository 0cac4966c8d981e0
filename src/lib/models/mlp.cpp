#include "adaswarm/models/mlp.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <stdexcept>

namespace adaswarm::models {

const char* to_string(Activation a) {
  switch (a) {
    case Activation::ReLU: return "relu";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
    case Activation::None: return "none";
    case Activation::Softmax: return "softmax";
  }
  return "?";
}

Activation activation_from_string(const std::string& s) {
  if (s == "relu") return Activation::ReLU;
  if (s == "sigmoid") return Activation::Sigmoid;
  if (s == "tanh") return Activation::Tanh;
  if (s == "none" || s == "identity" || s == "linear") return Activation::None;
  if (s == "softmax") return Activation::Softmax;
  throw std::invalid_argument("unknown activation '" + s + "' (relu, sigmoid, tanh, none, softmax)");
}

namespace {
at::Tensor activate(Activation a, const at::Tensor& x) {
  switch (a) {
    case Activation::ReLU: return torch::relu(x);
    case Activation::Sigmoid: return torch::sigmoid(x);
    case Activation::Tanh: return torch::tanh(x);
    case Activation::None: return x;
    case Activation::Softmax: return torch::softmax(x, 1);
  }
  return x;
}
}  // namespace

MLPImpl::MLPImpl(MLPOptions options_) : options(std::move(options_)) { reset(); }

void MLPImpl::reset() {
  if (options.in_features() <= 0 || options.out_features() <= 0)
    throw std::invalid_argument("MLP: in_features and out_features must be positive");
  if (options.activation() == Activation::Softmax)
    throw std::invalid_argument("MLP: softmax is only an output activation");
  layers.clear();
  int64_t in = options.in_features();
  std::vector<int64_t> sizes = options.hidden();
  sizes.push_back(options.out_features());
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] <= 0) throw std::invalid_argument("MLP: hidden sizes must be positive");
    layers.push_back(register_module("fc" + std::to_string(i),
                                     torch::nn::Linear(torch::nn::LinearOptions(in, sizes[i]).bias(options.bias()))));
    in = sizes[i];
  }
}

void MLPImpl::reset_parameters(uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::NoGradGuard no_grad;
  for (auto& l : layers) {
    const double fan_in = static_cast<double>(l->weight.size(1));
    // kaiming_uniform(a = sqrt(5)): bound = sqrt(6 / ((1 + a^2) fan_in)) = 1 / sqrt(fan_in)
    const double bound = 1.0 / std::sqrt(fan_in);
    l->weight.uniform_(-bound, bound, gen);
    if (l->bias.defined()) l->bias.uniform_(-bound, bound, gen);
  }
}

at::Tensor MLPImpl::logits(const at::Tensor& x) {
  at::Tensor h = x;
  for (size_t i = 0; i < layers.size(); ++i) {
    h = layers[i]->forward(h);
    if (i + 1 < layers.size()) h = activate(options.activation(), h);
  }
  return h;
}

at::Tensor MLPImpl::forward(const at::Tensor& x) { return activate(options.output_activation(), logits(x)); }

}  // namespace adaswarm::models
