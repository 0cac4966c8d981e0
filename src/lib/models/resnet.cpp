#include "adaswarm/models/resnet.h"

#include <torch/torch.h>

#include <stdexcept>

namespace adaswarm::models {

namespace nn = torch::nn;

BasicBlockImpl::BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride) {
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in_planes, planes, 3).stride(stride).padding(1).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(planes, planes, 3).stride(1).padding(1).bias(false)));
  bn2 = register_module("bn2", nn::BatchNorm2d(planes));
  shortcut = register_module("shortcut", nn::Sequential());
  if (stride != 1 || in_planes != planes) {
    shortcut->push_back(nn::Conv2d(nn::Conv2dOptions(in_planes, planes, 1).stride(stride).bias(false)));
    shortcut->push_back(nn::BatchNorm2d(planes));
  }
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  auto out = torch::relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  out += shortcut->is_empty() ? x : shortcut->forward(x);
  return torch::relu(out);
}

ResNetImpl::ResNetImpl(ResNetOptions o) : options_(o) {
  if (o.in_channels() < 1 || o.classes() < 1) throw std::invalid_argument("ResNet: in_channels and classes must be positive");
  if (o.blocks().size() != 4) throw std::invalid_argument("ResNet: expected 4 stages of blocks");
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(o.in_channels(), 64, 3).stride(1).padding(1).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(64));
  int64_t in_planes = 64;
  auto stage = [&](int64_t planes, int64_t count, int64_t stride) {
    nn::Sequential s;
    for (int64_t i = 0; i < count; ++i) {
      s->push_back(BasicBlock(in_planes, planes, i == 0 ? stride : 1));
      in_planes = planes;
    }
    return s;
  };
  layer1 = register_module("layer1", stage(64, o.blocks()[0], 1));
  layer2 = register_module("layer2", stage(128, o.blocks()[1], 2));
  layer3 = register_module("layer3", stage(256, o.blocks()[2], 2));
  layer4 = register_module("layer4", stage(512, o.blocks()[3], 2));
  linear = register_module("linear", nn::Linear(512, o.classes()));
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  auto out = torch::relu(bn1->forward(conv1->forward(x)));
  out = layer4->forward(layer3->forward(layer2->forward(layer1->forward(out))));
  out = torch::adaptive_avg_pool2d(out, {1, 1}).flatten(1);
  return linear->forward(out);
}

ResNet resnet18(int64_t in_channels, int64_t classes) {
  return ResNet(ResNetOptions().in_channels(in_channels).classes(classes));
}

}  // namespace adaswarm::models
