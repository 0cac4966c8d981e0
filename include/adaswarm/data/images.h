// Image data sets for the vision trainer: locating the official files of
// MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 in a directory, per-set
// normalisation, the paper code's augmentation (random crop with padding 4 and
// horizontal flip) and a deterministic batch loader whose order and
// augmentation are pure functions of (seed, epoch, batch): resuming from any
// batch replays exactly the same data.
#pragma once
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "adaswarm/data/cifar.h"
#include "adaswarm/data/idx.h"

namespace adaswarm::data {

enum class ImageSet { MNIST, FashionMNIST, CIFAR10, CIFAR100 };
const char* to_string(ImageSet s);
/// mnist, fashion-mnist (or fashion), cifar10, cifar100. Throws std::invalid_argument.
ImageSet image_set_from_string(const std::string& s);
int64_t num_classes(ImageSet s);

/// Where Debian's dataset-fashion-mnist installs the four idx files.
constexpr const char* kDefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// Per-channel mean and standard deviation of pixels scaled to [0, 1].
struct Normalization {
  std::vector<float> mean;
  std::vector<float> stddev;
};
/// The constants the paper's code uses (training-split statistics).
Normalization default_normalization(ImageSet s);
/// Measured per-channel statistics of uint8 images [N, C, H, W] scaled to [0, 1].
Normalization compute_normalization(const at::Tensor& images);

struct ImageData {
  at::Tensor images;                 ///< uint8 [N, C, H, W]
  at::Tensor labels;                 ///< int64 [N]
  std::vector<std::string> sources;  ///< files read
  bool approximate = false;          ///< built from a non-official file (e.g. *.APPROX.*)
  int64_t size() const;
  /// The first n records (all when n <= 0 or n >= size()).
  ImageData head(int64_t n) const;
};

struct ImageSplits {
  ImageSet set = ImageSet::FashionMNIST;
  std::string dir;
  ImageData train, test;
  int64_t classes = 10;
  /// True when the test split was held out of the training files (no test file).
  bool test_held_out = false;
};

struct LoadOptions {
  /// Keep only the first n training / test records (0: all).
  int64_t train_limit = 0;
  int64_t test_limit = 0;
  /// When the directory has no test file: hold out the last `holdout` training
  /// records as the test split (0: a missing test file is an error).
  int64_t holdout = 0;
};

/// Finds and reads the official files of `set` under `dir` (also looking in the
/// archives' usual sub-folders: cifar-10-batches-bin, cifar-100-binary). An empty
/// dir means the default (Fashion-MNIST only: kDefaultFashionMnistDir).
/// MNIST-style names: {train,t10k}-{images-idx3,labels-idx1}-ubyte with optional
/// .gz; a train image file named *.APPROX* marks the data approximate.
/// CIFAR-10: data_batch_*.bin (sorted) + test_batch.bin; CIFAR-100: train.bin + test.bin.
ImageSplits load_image_set(ImageSet set, const std::string& dir, const LoadOptions& opt = {});

struct AugmentOptions {
  int64_t pad = 0;     ///< random crop of the original size from the image zero-padded by `pad`
  bool hflip = false;  ///< flip horizontally with probability 1/2
};
/// The paper code's augmentation: CIFAR crop 4 + flip, none for (Fashion-)MNIST.
AugmentOptions default_augmentation(ImageSet s);

struct Batch {
  at::Tensor images;  ///< float [B, C, H, W], normalised
  at::Tensor labels;  ///< int64 [B]
};

/// uint8 images [B, C, H, W] -> normalised float, no augmentation.
at::Tensor normalize_images(const at::Tensor& images, const Normalization& norm);

/// Batches of an ImageData in a shuffled (or fixed) order. Each batch is built
/// on the calling thread: conversion, crop, flip and normalisation are one
/// fused pass over the bytes.
class BatchLoader {
 public:
  BatchLoader(const ImageData& data, int64_t batch_size, bool shuffle, AugmentOptions augment,
              Normalization norm, uint64_t seed);
  /// Sets the order of `epoch` (a function of seed and epoch only).
  void set_epoch(int64_t epoch);
  int64_t num_batches() const;
  int64_t size() const { return n_; }
  int64_t batch_size() const { return batch_size_; }
  /// Batch `index` of the current epoch (the last one may be smaller).
  Batch batch(int64_t index) const;
  /// Rows [begin, end) of batch `index`, the same images (augmentation included)
  /// as those rows of batch(index): a rank's shard of a global batch.
  Batch batch(int64_t index, int64_t begin, int64_t end) const;
  /// Rows in batch `index`.
  int64_t batch_rows(int64_t index) const;

 private:
  at::Tensor images_, labels_;
  int64_t n_ = 0, c_ = 0, h_ = 0, w_ = 0, batch_size_ = 1;
  bool shuffle_ = false;
  AugmentOptions augment_;
  std::vector<float> scale_, shift_;  // x * scale + shift == (x / 255 - mean) / std
  uint64_t seed_ = 0;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace adaswarm::data
