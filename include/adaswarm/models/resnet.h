// CIFAR-style ResNet-18 (He et al. 2016, as in the pytorch-cifar code the paper
// used): 3x3 stride-1 stem with 64 channels, no max-pool, four stages of two
// BasicBlocks (64, 128, 256, 512 channels; stride 2 from the second stage),
// global average pool, linear classifier. 1- or 3-channel input, any class count.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace adaswarm::models {

/// conv3x3-BN-ReLU-conv3x3-BN plus the shortcut (identity, or 1x1 conv + BN when
/// the stride or the channel count changes), then ReLU.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential shortcut{nullptr};  // empty: identity
};
TORCH_MODULE(BasicBlock);

struct ResNetOptions {
  TORCH_ARG(int64_t, in_channels) = 3;
  TORCH_ARG(int64_t, classes) = 10;
  /// Blocks per stage: {2, 2, 2, 2} is ResNet-18.
  TORCH_ARG(std::vector<int64_t>, blocks) = std::vector<int64_t>{2, 2, 2, 2};
};

class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(ResNetOptions options = {});
  /// x [B, in_channels, H, W] (H, W >= 8; 32x32 or 28x28 typical) -> logits [B, classes].
  torch::Tensor forward(torch::Tensor x);
  const ResNetOptions& options() const { return options_; }

 private:
  ResNetOptions options_;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(ResNet);

/// ResNet-18 for `in_channels`-channel images and `classes` classes.
ResNet resnet18(int64_t in_channels = 3, int64_t classes = 10);

}  // namespace adaswarm::models
