#include "adaswarm/models/cnn.h"

#include <torch/torch.h>

#include <stdexcept>

#include <fmt/format.h>

namespace adaswarm::models {

SimpleCNNImpl::SimpleCNNImpl(SimpleCNNOptions o) : options_(o) {
  if (o.in_channels() < 1 || o.classes() < 1)
    throw std::invalid_argument("SimpleCNN: in_channels and classes must be positive");
  const int64_t ph = (o.height() - 4) / 2, pw = (o.width() - 4) / 2;
  if (ph < 1 || pw < 1)
    throw std::invalid_argument(fmt::format("SimpleCNN: input {}x{} is too small (at least 6x6)", o.height(), o.width()));
  flat_ = 64 * ph * pw;
  conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels(), 32, 3)));
  conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3)));
  drop1 = register_module("drop1", torch::nn::Dropout(o.dropout1()));
  fc1 = register_module("fc1", torch::nn::Linear(flat_, 128));
  drop2 = register_module("drop2", torch::nn::Dropout(o.dropout2()));
  fc2 = register_module("fc2", torch::nn::Linear(128, o.classes()));
}

torch::Tensor SimpleCNNImpl::forward(torch::Tensor x) {
  x = torch::relu(conv1->forward(x));
  x = torch::relu(conv2->forward(x));
  x = torch::max_pool2d(x, 2);
  x = drop1->forward(x);
  x = x.flatten(1);
  x = torch::relu(fc1->forward(x));
  x = drop2->forward(x);
  return fc2->forward(x);
}

int64_t count_parameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace adaswarm::models
