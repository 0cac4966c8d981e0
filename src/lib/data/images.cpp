// Image sets: file discovery, normalisation, augmentation, deterministic batches.
#include "adaswarm/data/images.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cctype>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include "adaswarm/util/random.h"

namespace fs = std::filesystem;

namespace adaswarm::data {

const char* to_string(ImageSet s) {
  switch (s) {
    case ImageSet::MNIST: return "mnist";
    case ImageSet::FashionMNIST: return "fashion-mnist";
    case ImageSet::CIFAR10: return "cifar10";
    case ImageSet::CIFAR100: return "cifar100";
  }
  return "?";
}

ImageSet image_set_from_string(const std::string& s) {
  std::string k;
  for (char c : s) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (k == "mnist") return ImageSet::MNIST;
  if (k == "fashion-mnist" || k == "fashion_mnist" || k == "fashion" || k == "fmnist") return ImageSet::FashionMNIST;
  if (k == "cifar10" || k == "cifar-10") return ImageSet::CIFAR10;
  if (k == "cifar100" || k == "cifar-100") return ImageSet::CIFAR100;
  throw std::invalid_argument(
      fmt::format("unknown image set '{}' (expected mnist, fashion-mnist, cifar10 or cifar100)", s));
}

int64_t num_classes(ImageSet s) { return s == ImageSet::CIFAR100 ? 100 : 10; }

Normalization default_normalization(ImageSet s) {
  switch (s) {
    case ImageSet::MNIST: return {{0.1307f}, {0.3081f}};
    case ImageSet::FashionMNIST: return {{0.2860f}, {0.3530f}};
    case ImageSet::CIFAR10: return {{0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}};
    case ImageSet::CIFAR100: return {{0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}};
  }
  return {};
}

Normalization compute_normalization(const at::Tensor& images_in) {
  TORCH_CHECK(images_in.dim() == 4 && images_in.scalar_type() == torch::kUInt8,
              "compute_normalization: expected uint8 [N, C, H, W] images");
  // A 256-bin histogram per channel: exact sums without a floating-point copy.
  const auto images = images_in.contiguous();
  const int64_t n = images.size(0), c = images.size(1), plane = images.size(2) * images.size(3);
  const uint8_t* p = images.data_ptr<uint8_t>();
  Normalization out;
  for (int64_t ch = 0; ch < c; ++ch) {
    std::array<uint64_t, 256> hist{};
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* q = p + (i * c + ch) * plane;
      for (int64_t k = 0; k < plane; ++k) ++hist[q[k]];
    }
    double cnt = 0, sum = 0, sq = 0;
    for (int v = 0; v < 256; ++v) {
      const double x = v / 255.0, h = static_cast<double>(hist[v]);
      cnt += h;
      sum += h * x;
      sq += h * x * x;
    }
    const double mean = cnt > 0 ? sum / cnt : 0.0;
    const double var = cnt > 0 ? std::max(sq / cnt - mean * mean, 0.0) : 0.0;
    out.mean.push_back(static_cast<float>(mean));
    out.stddev.push_back(static_cast<float>(std::sqrt(var)));
  }
  return out;
}

int64_t ImageData::size() const { return labels.defined() ? labels.size(0) : 0; }

ImageData ImageData::head(int64_t n) const {
  if (n <= 0 || n >= size()) return *this;
  ImageData d = *this;
  d.images = images.narrow(0, 0, n).contiguous();
  d.labels = labels.narrow(0, 0, n).contiguous();
  return d;
}

AugmentOptions default_augmentation(ImageSet s) {
  if (s == ImageSet::CIFAR10 || s == ImageSet::CIFAR100) return {4, true};
  return {0, false};
}

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The MNIST-style file of one split and kind: the official names first, then any
// file whose name starts with e.g. "train-images" and mentions "idx3".
std::string find_idx(const fs::path& dir, const std::string& split, const std::string& kind, const std::string& idx,
                     bool& approximate) {
  for (const std::string& base : {split + "-" + kind + "-" + idx + "-ubyte", split + "-" + kind + "." + idx + "-ubyte"})
    for (const char* ext : {"", ".gz"}) {
      fs::path p = dir / (base + ext);
      if (fs::is_regular_file(p)) return p.string();
    }
  std::vector<std::string> others;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(split + "-" + kind, 0) == 0 && name.find(idx) != std::string::npos && e.is_regular_file())
      others.push_back(e.path().string());
  }
  std::sort(others.begin(), others.end());
  if (others.empty())
    throw DataError(dir.string(), 0, fmt::format("missing file {}-{}-{}-ubyte[.gz]", split, kind, idx));
  if (lower(fs::path(others.front()).filename().string()).find("approx") != std::string::npos) approximate = true;
  return others.front();
}

ImageData load_idx_split(const fs::path& dir, const std::string& split) {
  ImageData d;
  const std::string img = find_idx(dir, split, "images", "idx3", d.approximate);
  bool unused = false;
  const std::string lab = find_idx(dir, split, "labels", "idx1", unused);
  d.images = read_idx_images(img);
  d.labels = read_idx_labels(lab, 10);
  d.sources = {img, lab};
  if (d.images.size(0) != d.labels.size(0))
    throw DataError(lab, 0, fmt::format("record count disagrees: {} labels, but {} holds {} images", d.labels.size(0),
                                         img, d.images.size(0)));
  return d;
}

ImageData cat_cifar(const std::vector<std::string>& files, bool hundred) {
  std::vector<at::Tensor> imgs, labs;
  ImageData d;
  for (const auto& f : files) {
    CifarBatch b = hundred ? read_cifar100_bin(f) : read_cifar10_bin(f);
    imgs.push_back(b.images);
    labs.push_back(b.labels);
    d.sources.push_back(f);
  }
  d.images = imgs.size() == 1 ? imgs[0] : torch::cat(imgs);
  d.labels = labs.size() == 1 ? labs[0] : torch::cat(labs);
  return d;
}

fs::path resolve_dir(const std::string& dir, const char* sub) {
  fs::path p(dir);
  if (fs::is_directory(p / sub)) return p / sub;
  return p;
}

}  // namespace

ImageSplits load_image_set(ImageSet set, const std::string& dir_in, const LoadOptions& opt) {
  std::string dir = dir_in;
  if (dir.empty()) {
    if (set != ImageSet::FashionMNIST)
      throw DataError("--data-dir", 0,
                      fmt::format("no data directory given for {} (only fashion-mnist has a default, {})",
                                  to_string(set), kDefaultFashionMnistDir));
    dir = kDefaultFashionMnistDir;
  }
  if (!fs::is_directory(dir))
    throw DataError(dir, 0, "data directory does not exist (or is not a directory)");
  ImageSplits s;
  s.set = set;
  s.classes = num_classes(set);
  bool has_test = true;
  if (set == ImageSet::MNIST || set == ImageSet::FashionMNIST) {
    const fs::path d(dir);
    s.dir = d.string();
    s.train = load_idx_split(d, "train");
    bool dummy = false;
    try {
      find_idx(d, "t10k", "images", "idx3", dummy);
    } catch (const DataError&) {
      if (opt.holdout <= 0) throw;
      has_test = false;
    }
    if (has_test) s.test = load_idx_split(d, "t10k");
    if (has_test && s.train.images.sizes().slice(1) != s.test.images.sizes().slice(1)) {
      auto hw = [](const ImageData& x) {
        return fmt::format("{}x{}", x.images.size(2), x.images.size(3));
      };
      throw DataError(s.test.sources.front(), 0,
                      fmt::format("test images are {}, but the training images ({}) are {}: the two files must "
                                  "hold images of one size",
                                  hw(s.test), s.train.sources.front(), hw(s.train)));
    }
  } else {
    const bool hundred = set == ImageSet::CIFAR100;
    const fs::path d = resolve_dir(dir, hundred ? "cifar-100-binary" : "cifar-10-batches-bin");
    s.dir = d.string();
    std::vector<std::string> train_files;
    fs::path test_file;
    if (hundred) {
      if (!fs::is_regular_file(d / "train.bin"))
        throw DataError(d.string(), 0, "missing file train.bin (CIFAR-100 binary version)");
      train_files.push_back((d / "train.bin").string());
      test_file = d / "test.bin";
    } else {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(d, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("data_batch_", 0) == 0 && name.size() > 4 && name.substr(name.size() - 4) == ".bin")
          train_files.push_back(e.path().string());
      }
      std::sort(train_files.begin(), train_files.end());
      if (train_files.empty())
        throw DataError(d.string(), 0, "missing files data_batch_*.bin (CIFAR-10 binary version)");
      test_file = d / "test_batch.bin";
    }
    s.train = cat_cifar(train_files, hundred);
    if (fs::exists(test_file)) {
      s.test = cat_cifar({test_file.string()}, hundred);
    } else if (opt.holdout > 0) {
      has_test = false;
    } else {
      throw DataError(d.string(), 0, fmt::format("missing file {} (give a holdout to test on part of the training files)", test_file.filename().string()));
    }
  }
  if (!has_test) {
    const int64_t n = s.train.size();
    if (opt.holdout >= n)
      throw DataError(dir, 0, fmt::format("cannot hold out {} test records from {} training records", opt.holdout, n));
    ImageData all = s.train;
    s.train.images = all.images.narrow(0, 0, n - opt.holdout).contiguous();
    s.train.labels = all.labels.narrow(0, 0, n - opt.holdout).contiguous();
    s.test = all;
    s.test.images = all.images.narrow(0, n - opt.holdout, opt.holdout).contiguous();
    s.test.labels = all.labels.narrow(0, n - opt.holdout, opt.holdout).contiguous();
    s.test_held_out = true;
  }
  s.train = s.train.head(opt.train_limit);
  s.test = s.test.head(opt.test_limit);
  return s;
}

at::Tensor normalize_images(const at::Tensor& images, const Normalization& norm) {
  TORCH_CHECK(images.dim() == 4 && static_cast<size_t>(images.size(1)) == norm.mean.size(),
              "normalize_images: channel count disagrees with the normalisation");
  auto mean = torch::tensor(norm.mean).view({1, -1, 1, 1});
  auto sd = torch::tensor(norm.stddev).view({1, -1, 1, 1});
  return (images.to(torch::kFloat).div(255.0f) - mean) / sd;
}

BatchLoader::BatchLoader(const ImageData& data, int64_t batch_size, bool shuffle, AugmentOptions augment,
                         Normalization norm, uint64_t seed)
    : images_(data.images.contiguous()),
      labels_(data.labels.contiguous()),
      batch_size_(batch_size),
      shuffle_(shuffle),
      augment_(augment),
      seed_(seed) {
  if (batch_size < 1) throw std::invalid_argument("batch size must be at least 1");
  if (!images_.defined() || images_.dim() != 4 || images_.scalar_type() != torch::kUInt8)
    throw std::invalid_argument("BatchLoader: expected uint8 images [N, C, H, W]");
  n_ = images_.size(0);
  c_ = images_.size(1);
  h_ = images_.size(2);
  w_ = images_.size(3);
  if (static_cast<int64_t>(norm.mean.size()) != c_ || static_cast<int64_t>(norm.stddev.size()) != c_)
    throw std::invalid_argument(fmt::format("BatchLoader: normalisation has {} channel(s), images have {}",
                                            norm.mean.size(), c_));
  if (augment_.pad < 0) throw std::invalid_argument("BatchLoader: negative crop padding");
  for (int64_t c = 0; c < c_; ++c) {
    scale_.push_back(1.0f / (255.0f * norm.stddev[c]));
    shift_.push_back(-norm.mean[c] / norm.stddev[c]);
  }
  set_epoch(0);
}

void BatchLoader::set_epoch(int64_t epoch) {
  epoch_ = epoch;
  order_.resize(n_);
  std::iota(order_.begin(), order_.end(), 0);
  if (shuffle_) {
    Rng rng(seed_ ^ 0x5DEECE66DULL, static_cast<uint64_t>(epoch) * 2);
    for (int64_t i = n_ - 1; i > 0; --i) std::swap(order_[i], order_[rng.below(static_cast<uint64_t>(i) + 1)]);
  }
}

int64_t BatchLoader::num_batches() const { return (n_ + batch_size_ - 1) / batch_size_; }

int64_t BatchLoader::batch_rows(int64_t index) const {
  if (index < 0 || index >= num_batches())
    throw std::out_of_range(fmt::format("BatchLoader: batch {} of {}", index, num_batches()));
  return std::min(batch_size_, n_ - index * batch_size_);
}

Batch BatchLoader::batch(int64_t index) const { return batch(index, 0, batch_rows(index)); }

Batch BatchLoader::batch(int64_t index, int64_t begin, int64_t end) const {
  const int64_t start = index * batch_size_;
  const int64_t b = batch_rows(index);
  if (begin < 0 || end < begin || end > b)
    throw std::out_of_range(fmt::format("BatchLoader: rows [{}, {}) of batch {} of {} rows", begin, end, index, b));
  Batch out;
  out.images = torch::empty({end - begin, c_, h_, w_}, torch::kFloat);
  out.labels = torch::empty({end - begin}, torch::kInt64);
  // Per-image crop offsets and flips: a function of (seed, epoch, batch) only.
  std::vector<int32_t> dy(b, static_cast<int32_t>(augment_.pad)), dx(b, static_cast<int32_t>(augment_.pad));
  std::vector<uint8_t> flip(b, 0);
  if (augment_.pad > 0 || augment_.hflip) {
    Rng rng(seed_ ^ 0xA5A5A5A5ULL, (static_cast<uint64_t>(epoch_) << 32) + static_cast<uint64_t>(index) * 2 + 1);
    for (int64_t i = 0; i < b; ++i) {
      if (augment_.pad > 0) {
        dy[i] = static_cast<int32_t>(rng.below(2 * augment_.pad + 1));
        dx[i] = static_cast<int32_t>(rng.below(2 * augment_.pad + 1));
      }
      if (augment_.hflip) flip[i] = static_cast<uint8_t>(rng() >> 63);
    }
  }
  const uint8_t* src = images_.data_ptr<uint8_t>();
  const int64_t* lab = labels_.data_ptr<int64_t>();
  float* dst = out.images.data_ptr<float>();
  int64_t* olab = out.labels.data_ptr<int64_t>();
  const int64_t plane = h_ * w_, image = c_ * plane, pad = augment_.pad;
  // Augmentation draws were made for the whole batch; rows [begin, end) are built.
  at::parallel_for(begin, end, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t r = order_[start + i];
      olab[i - begin] = lab[r];
      const uint8_t* im = src + r * image;
      float* o = dst + (i - begin) * image;
      const int64_t oy = dy[i] - pad, ox = dx[i] - pad;
      for (int64_t c = 0; c < c_; ++c) {
        const float sc = scale_[c], sh = shift_[c];
        const uint8_t* ip = im + c * plane;
        float* op = o + c * plane;
        for (int64_t y = 0; y < h_; ++y) {
          const int64_t sy = y + oy;
          float* row = op + y * w_;
          if (sy < 0 || sy >= h_) {
            std::fill(row, row + w_, sh);
            continue;
          }
          const uint8_t* irow = ip + sy * w_;
          if (!flip[i]) {
            for (int64_t x = 0; x < w_; ++x) {
              const int64_t sx = x + ox;
              row[x] = (sx >= 0 && sx < w_) ? irow[sx] * sc + sh : sh;
            }
          } else {
            for (int64_t x = 0; x < w_; ++x) {
              const int64_t sx = (w_ - 1 - x) + ox;
              row[x] = (sx >= 0 && sx < w_) ? irow[sx] * sc + sh : sh;
            }
          }
        }
      }
    }
  });
  return out;
}

}  // namespace adaswarm::data
