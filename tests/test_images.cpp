// Image readers (idx, CIFAR), data-set discovery, normalisation, augmentation
// and the batch loader: on fixtures written here and on the shared real files.
#include <gtest/gtest.h>

#include "temp_dir.h"
#include <torch/torch.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "adaswarm/data/cifar.h"
#include "adaswarm/data/idx.h"
#include "adaswarm/data/images.h"

namespace fs = std::filesystem;
using namespace adaswarm::data;

namespace {

const std::string kShared = ADASWARM_SHARED_DATA;

using adaswarm::testing::TempDir;

void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> v;
  put_be32(v, magic);
  for (auto d : dims) put_be32(v, d);
  v.insert(v.end(), data.begin(), data.end());
  return v;
}

void write_raw(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
}

std::vector<uint8_t> read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// n images of r x c with pixel (i, y, x) = (i * 31 + y * c + x) % 256.
std::vector<uint8_t> image_data(int n, int r, int c) {
  std::vector<uint8_t> d;
  for (int i = 0; i < n; ++i)
    for (int y = 0; y < r; ++y)
      for (int x = 0; x < c; ++x) d.push_back(static_cast<uint8_t>((i * 31 + y * c + x) % 256));
  return d;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError thrown)";
}

void expect_contains(const std::string& s, const std::string& part) {
  EXPECT_NE(s.find(part), std::string::npos) << "message: " << s << "\nexpected to contain: " << part;
}

// Writes an MNIST-style directory with n_train / n_test records of 6x5 images.
void write_mnist_dir(const TempDir& d, int n_train, int n_test, bool gz) {
  auto put = gz ? write_gz : write_raw;
  const std::string ext = gz ? ".gz" : "";
  std::vector<uint8_t> tl, sl;
  for (int i = 0; i < n_train; ++i) tl.push_back(static_cast<uint8_t>(i % 10));
  for (int i = 0; i < n_test; ++i) sl.push_back(static_cast<uint8_t>((i + 3) % 10));
  put(d / ("train-images-idx3-ubyte" + ext), idx_bytes(0x803, {uint32_t(n_train), 6, 5}, image_data(n_train, 6, 5)));
  put(d / ("train-labels-idx1-ubyte" + ext), idx_bytes(0x801, {uint32_t(n_train)}, tl));
  put(d / ("t10k-images-idx3-ubyte" + ext), idx_bytes(0x803, {uint32_t(n_test), 6, 5}, image_data(n_test, 6, 5)));
  put(d / ("t10k-labels-idx1-ubyte" + ext), idx_bytes(0x801, {uint32_t(n_test)}, sl));
}

std::vector<uint8_t> cifar_record(int label_bytes, int label0, int label1, int seed) {
  std::vector<uint8_t> r;
  r.push_back(static_cast<uint8_t>(label0));
  if (label_bytes == 2) r.push_back(static_cast<uint8_t>(label1));
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 1024; ++p) r.push_back(static_cast<uint8_t>((seed * 7 + c * 50 + p) % 256));
  return r;
}

}  // namespace

// ---- idx ----------------------------------------------------------------------------------
TEST(Idx, RawAndGzipReadTheSame) {
  TempDir d;
  const auto data = image_data(7, 6, 5);
  write_raw(d / "a-idx3-ubyte", idx_bytes(0x803, {7, 6, 5}, data));
  write_gz(d / "a-idx3-ubyte.gz", idx_bytes(0x803, {7, 6, 5}, data));
  auto raw = read_idx_images(d / "a-idx3-ubyte");
  auto gz = read_idx_images(d / "a-idx3-ubyte.gz");
  EXPECT_EQ(raw.sizes(), (std::vector<int64_t>{7, 1, 6, 5}));
  EXPECT_TRUE(torch::equal(raw, gz));
  EXPECT_EQ(raw[3][0][2][4].item<int>(), (3 * 31 + 2 * 5 + 4) % 256);
  auto lab = idx_bytes(0x801, {4}, {3, 1, 4, 1});
  write_gz(d / "l.gz", lab);
  auto labels = read_idx_labels(d / "l.gz", 10);
  EXPECT_EQ(labels.scalar_type(), torch::kInt64);
  EXPECT_EQ(std::vector<int64_t>(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + 4),
            (std::vector<int64_t>{3, 1, 4, 1}));
}

TEST(Idx, AnyRecordCountIncludingOneAndZero) {
  TempDir d;
  write_raw(d / "one", idx_bytes(0x803, {1, 2, 2}, {1, 2, 3, 4}));
  EXPECT_EQ(read_idx_images(d / "one").size(0), 1);
  write_raw(d / "zero", idx_bytes(0x801, {0}, {}));
  EXPECT_EQ(read_idx_labels(d / "zero").size(0), 0);
}

TEST(Idx, BadMagicNumberIsAnErrorNamingTheFile) {
  TempDir d;
  write_raw(d / "bad", idx_bytes(0x12345678, {2, 2, 2}, std::vector<uint8_t>(8, 0)));
  auto msg = error_of([&] { read_idx_images(d / "bad"); });
  expect_contains(msg, d / "bad");
  expect_contains(msg, "magic");
  // A gzipped text file, and a PNG-like header.
  write_gz(d / "text.gz", {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  expect_contains(error_of([&] { read_idx_images(d / "text.gz"); }), "magic");
}

TEST(Idx, WrongElementTypeAndWrongKindOfFile) {
  TempDir d;
  write_raw(d / "float", idx_bytes(0x0D03, {1, 1, 1}, {0, 0, 0, 0}));
  expect_contains(error_of([&] { read_idx_images(d / "float"); }), "element type 0x0d");
  write_raw(d / "labels", idx_bytes(0x801, {3}, {1, 2, 3}));
  auto msg = error_of([&] { read_idx_images(d / "labels"); });
  expect_contains(msg, "1 dimension(s), expected 3");
  write_raw(d / "images", idx_bytes(0x803, {1, 1, 1}, {9}));
  expect_contains(error_of([&] { read_idx_labels(d / "images"); }), "expected 1");
}

TEST(Idx, TruncatedFilesAreErrors) {
  TempDir d;
  auto full = idx_bytes(0x803, {7, 6, 5}, image_data(7, 6, 5));
  auto cut = std::vector<uint8_t>(full.begin(), full.end() - 45);
  write_raw(d / "cut", cut);
  auto msg = error_of([&] { read_idx_images(d / "cut"); });
  expect_contains(msg, d / "cut");
  expect_contains(msg, "truncated");
  expect_contains(msg, "5 whole records");
  // Truncated header.
  write_raw(d / "hdr", std::vector<uint8_t>(full.begin(), full.begin() + 9));
  expect_contains(error_of([&] { read_idx_images(d / "hdr"); }), "truncated");
  write_raw(d / "tiny", {0, 0});
  expect_contains(error_of([&] { read_idx_images(d / "tiny"); }), "truncated");
  // A gzip stream cut in the middle.
  write_gz(d / "whole.gz", idx_bytes(0x803, {50, 28, 28}, image_data(50, 28, 28)));
  auto gz = read_raw(d / "whole.gz");
  write_raw(d / "cut.gz", std::vector<uint8_t>(gz.begin(), gz.begin() + static_cast<long>(gz.size() / 2)));
  msg = error_of([&] { read_idx_images(d / "cut.gz"); });
  expect_contains(msg, d / "cut.gz");
  EXPECT_TRUE(msg.find("truncated") != std::string::npos) << msg;
}

TEST(Idx, RecordCountThatDisagreesWithTheHeader) {
  TempDir d;
  // Header says 5 records, file holds 7.
  write_raw(d / "long", idx_bytes(0x803, {5, 6, 5}, image_data(7, 6, 5)));
  auto msg = error_of([&] { read_idx_images(d / "long"); });
  expect_contains(msg, "disagrees with the header");
  expect_contains(msg, "5 records");
  // Image and label files with different counts in one directory.
  TempDir m;
  write_mnist_dir(m, 20, 10, false);
  write_raw(m / "t10k-labels-idx1-ubyte", idx_bytes(0x801, {9}, std::vector<uint8_t>(9, 1)));
  msg = error_of([&] { load_image_set(ImageSet::MNIST, m.str()); });
  expect_contains(msg, "record count disagrees");
  expect_contains(msg, "t10k-labels-idx1-ubyte");
}

TEST(Idx, LabelOutOfRange) {
  TempDir d;
  write_raw(d / "l", idx_bytes(0x801, {3}, {1, 12, 3}));
  expect_contains(error_of([&] { read_idx_labels(d / "l", 10); }), "label 12 of record 1");
}

TEST(Idx, MissingFileAndDirectory) {
  TempDir d;
  auto msg = error_of([&] { read_idx_images(d / "nope.gz"); });
  expect_contains(msg, d / "nope.gz");
  expect_contains(msg, "No such file");
  msg = error_of([&] { load_image_set(ImageSet::MNIST, d / "nodir"); });
  expect_contains(msg, "does not exist");
  // Directory present but the test labels missing.
  TempDir m;
  write_mnist_dir(m, 20, 10, true);
  fs::remove(m / "t10k-labels-idx1-ubyte.gz");
  msg = error_of([&] { load_image_set(ImageSet::MNIST, m.str()); });
  expect_contains(msg, "missing file t10k-labels-idx1-ubyte");
  // A directory given where a file is expected.
  expect_contains(error_of([&] { read_idx_images(m.str()); }), "directory");
}

TEST(ImageSetDiscovery, MnistStyleDirectoryRawOrGzip) {
  for (bool gz : {false, true}) {
    TempDir m;
    write_mnist_dir(m, 23, 11, gz);
    auto s = load_image_set(ImageSet::FashionMNIST, m.str());
    EXPECT_EQ(s.train.size(), 23);
    EXPECT_EQ(s.test.size(), 11);
    EXPECT_EQ(s.train.images.sizes(), (std::vector<int64_t>{23, 1, 6, 5}));
    EXPECT_EQ(s.test.labels[0].item<int64_t>(), 3);
    EXPECT_FALSE(s.train.approximate);
    LoadOptions lo;
    lo.train_limit = 5;
    lo.test_limit = 4;
    auto small = load_image_set(ImageSet::MNIST, m.str(), lo);
    EXPECT_EQ(small.train.size(), 5);
    EXPECT_EQ(small.test.size(), 4);
    EXPECT_TRUE(torch::equal(small.train.images, s.train.images.narrow(0, 0, 5)));
  }
}

TEST(ImageSetDiscovery, TrainAndTestImagesOfDifferentSizesAreRefusedAtLoad) {
  TempDir m;
  write_mnist_dir(m, 8, 4, false);
  // test images 4x7 instead of the training files' 6x5
  write_raw(m / "t10k-images-idx3-ubyte", idx_bytes(0x803, {4u, 4, 7}, image_data(4, 4, 7)));
  const std::string e = error_of([&] { load_image_set(ImageSet::MNIST, m.str()); });
  expect_contains(e, "t10k-images-idx3-ubyte");
  expect_contains(e, "train-images-idx3-ubyte");
  expect_contains(e, "4x7");
  expect_contains(e, "6x5");
}

TEST(ImageSetDiscovery, ApproximateTrainingFileIsMarked) {
  TempDir m;
  write_mnist_dir(m, 12, 6, true);
  fs::rename(m / "train-images-idx3-ubyte.gz", m / "train-images-idx3-ubyte.APPROX.gz");
  auto s = load_image_set(ImageSet::MNIST, m.str());
  EXPECT_TRUE(s.train.approximate);
  EXPECT_FALSE(s.test.approximate);
  EXPECT_EQ(s.train.size(), 12);
}

TEST(ImageSetDiscovery, OnlyFashionMnistHasADefaultDirectory) {
  auto msg = error_of([&] { load_image_set(ImageSet::CIFAR10, ""); });
  expect_contains(msg, "--data-dir");
  EXPECT_EQ(image_set_from_string("Fashion-MNIST"), ImageSet::FashionMNIST);
  EXPECT_EQ(image_set_from_string("cifar100"), ImageSet::CIFAR100);
  EXPECT_THROW(image_set_from_string("imagenet"), std::invalid_argument);
}

// ---- CIFAR ----------------------------------------------------------------------------------
TEST(Cifar, TenRecordLayoutAndDirectory) {
  TempDir d;
  fs::create_directories(d / "cifar-10-batches-bin");
  std::vector<uint8_t> b1, b2, t;
  for (int i = 0; i < 3; ++i) {
    auto r = cifar_record(1, i + 2, 0, i);
    b1.insert(b1.end(), r.begin(), r.end());
  }
  for (int i = 0; i < 2; ++i) {
    auto r = cifar_record(1, 9 - i, 0, 10 + i);
    b2.insert(b2.end(), r.begin(), r.end());
  }
  auto r = cifar_record(1, 5, 0, 20);
  t.insert(t.end(), r.begin(), r.end());
  write_raw(d / "cifar-10-batches-bin/data_batch_2.bin", b2);
  write_raw(d / "cifar-10-batches-bin/data_batch_1.bin", b1);
  write_raw(d / "cifar-10-batches-bin/test_batch.bin", t);
  auto one = read_cifar10_bin(d / "cifar-10-batches-bin/data_batch_1.bin");
  EXPECT_EQ(one.images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  EXPECT_EQ(one.labels[1].item<int64_t>(), 3);
  // Record 2, green plane (c = 1), pixel row 3, column 4: p = 3 * 32 + 4.
  EXPECT_EQ(one.images[2][1][3][4].item<int>(), (2 * 7 + 50 + 3 * 32 + 4) % 256);
  // The directory: both training batches in order (data_batch_1 first), the test batch.
  auto s = load_image_set(ImageSet::CIFAR10, d.str());
  EXPECT_EQ(s.train.size(), 5);
  EXPECT_EQ(s.test.size(), 1);
  EXPECT_EQ(s.train.labels[0].item<int64_t>(), 2);
  EXPECT_EQ(s.train.labels[3].item<int64_t>(), 9);
  EXPECT_EQ(s.test.labels[0].item<int64_t>(), 5);
  // Without the test batch: an error unless a holdout is asked for.
  fs::remove(d / "cifar-10-batches-bin/test_batch.bin");
  expect_contains(error_of([&] { load_image_set(ImageSet::CIFAR10, d.str()); }), "test_batch.bin");
  LoadOptions lo;
  lo.holdout = 2;
  auto h = load_image_set(ImageSet::CIFAR10, d.str(), lo);
  EXPECT_TRUE(h.test_held_out);
  EXPECT_EQ(h.train.size(), 3);
  EXPECT_EQ(h.test.size(), 2);
  EXPECT_EQ(h.test.labels[1].item<int64_t>(), 8);
}

TEST(Cifar, HundredRecords) {
  TempDir d;
  std::vector<uint8_t> tr, te;
  for (int i = 0; i < 4; ++i) {
    auto r = cifar_record(2, i * 4, 90 + i, i);
    tr.insert(tr.end(), r.begin(), r.end());
  }
  auto r = cifar_record(2, 19, 99, 7);
  te.insert(te.end(), r.begin(), r.end());
  write_raw(d / "train.bin", tr);
  write_raw(d / "test.bin", te);
  auto b = read_cifar100_bin(d / "train.bin");
  EXPECT_EQ(b.labels[2].item<int64_t>(), 92);
  EXPECT_EQ(b.coarse[2].item<int64_t>(), 8);
  EXPECT_EQ(b.images[3][2][0][5].item<int>(), (3 * 7 + 100 + 5) % 256);
  auto s = load_image_set(ImageSet::CIFAR100, d.str());
  EXPECT_EQ(s.classes, 100);
  EXPECT_EQ(s.train.size(), 4);
  EXPECT_EQ(s.test.labels[0].item<int64_t>(), 99);
}

TEST(Cifar, BadFiles) {
  TempDir d;
  auto rec = cifar_record(1, 3, 0, 1);
  std::vector<uint8_t> two(rec);
  two.insert(two.end(), rec.begin(), rec.end());
  // Truncated: one and a half records.
  write_raw(d / "cut.bin", std::vector<uint8_t>(two.begin(), two.end() - 1500));
  auto msg = error_of([&] { read_cifar10_bin(d / "cut.bin"); });
  expect_contains(msg, d / "cut.bin");
  expect_contains(msg, "1 whole records");
  // Empty.
  write_raw(d / "empty.bin", {});
  expect_contains(error_of([&] { read_cifar10_bin(d / "empty.bin"); }), "empty");
  // Label out of range (e.g. a CIFAR-100 file read as CIFAR-10).
  auto bad = cifar_record(1, 42, 0, 1);
  write_raw(d / "label.bin", bad);
  expect_contains(error_of([&] { read_cifar10_bin(d / "label.bin"); }), "label 42 out of range");
  // CIFAR-10 records read as CIFAR-100 do not divide into 3074-byte records.
  write_raw(d / "ten.bin", two);
  expect_contains(error_of([&] { read_cifar100_bin(d / "ten.bin"); }), "3074-byte records");
  expect_contains(error_of([&] { read_cifar10_bin(d / "missing.bin"); }), "missing.bin");
}

// ---- the shared real files ---------------------------------------------------------------------------
TEST(RealData, MnistOfficialTestSplitAndApproximateTrain) {
  auto s = load_image_set(ImageSet::MNIST, kShared + "/mnist");
  EXPECT_EQ(s.test.images.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_EQ(s.train.images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  EXPECT_TRUE(s.train.approximate) << "train-images-idx3-ubyte.APPROX.gz must be marked approximate";
  EXPECT_FALSE(s.test.approximate);
  const std::vector<int64_t> first_test{7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
  const std::vector<int64_t> first_train{5, 0, 4, 1, 9, 2, 1, 3, 1, 4};
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(s.test.labels[i].item<int64_t>(), first_test[i]);
    EXPECT_EQ(s.train.labels[i].item<int64_t>(), first_train[i]);
  }
  // Class counts of the official test split sum to 10000, '1' is the most frequent (1135).
  auto counts = torch::bincount(s.test.labels);
  EXPECT_EQ(counts[1].item<int64_t>(), 1135);
  EXPECT_EQ(counts.sum().item<int64_t>(), 10000);
  // Pixel statistics: test split 0.1325 / 0.3105; the training split is what the
  // normalisation constants 0.1307 / 0.3081 come from (approximate file: +-0.002).
  auto nt = compute_normalization(s.test.images);
  EXPECT_NEAR(nt.mean[0], 0.1325, 5e-4);
  EXPECT_NEAR(nt.stddev[0], 0.3105, 5e-4);
  auto ntr = compute_normalization(s.train.images);
  auto def = default_normalization(ImageSet::MNIST);
  EXPECT_NEAR(ntr.mean[0], def.mean[0], 2e-3);
  EXPECT_NEAR(ntr.stddev[0], def.stddev[0], 2e-3);
}

TEST(RealData, FashionMnistDefaultDirectory) {
  if (!fs::is_directory(kDefaultFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto s = load_image_set(ImageSet::FashionMNIST, "");
  EXPECT_EQ(s.dir, kDefaultFashionMnistDir);
  EXPECT_EQ(s.train.size(), 60000);
  EXPECT_EQ(s.test.size(), 10000);
  EXPECT_FALSE(s.train.approximate);
  const std::vector<int64_t> first_train{9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
  const std::vector<int64_t> first_test{9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(s.train.labels[i].item<int64_t>(), first_train[i]);
    EXPECT_EQ(s.test.labels[i].item<int64_t>(), first_test[i]);
  }
  // Balanced: 6000 / 1000 per class.
  EXPECT_EQ(torch::bincount(s.train.labels).min().item<int64_t>(), 6000);
  EXPECT_EQ(torch::bincount(s.test.labels).max().item<int64_t>(), 1000);
  auto n = compute_normalization(s.train.images);
  auto def = default_normalization(ImageSet::FashionMNIST);
  EXPECT_NEAR(n.mean[0], def.mean[0], 5e-4);
  EXPECT_NEAR(n.stddev[0], def.stddev[0], 5e-4);
}

TEST(RealData, Cifar10First200Records) {
  const std::string dir = kShared + "/cifar10";
  auto b = read_cifar10_bin(dir + "/data_batch_1_first200.bin");
  EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{200, 3, 32, 32}));
  const std::vector<int64_t> first{6, 9, 9, 4, 1, 1, 2, 7, 8, 3};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.labels[i].item<int64_t>(), first[i]);
  EXPECT_EQ(torch::bincount(b.labels, {}, 10).size(0), 10);  // all ten classes among the 200
  // Per-channel means of 200 natural images near the set's (0.49, 0.48, 0.45), red >= blue.
  auto n = compute_normalization(b.images);
  for (int c = 0; c < 3; ++c) {
    EXPECT_GT(n.mean[c], 0.38);
    EXPECT_LT(n.mean[c], 0.60);
    EXPECT_GT(n.stddev[c], 0.18);
    EXPECT_LT(n.stddev[c], 0.32);
  }
  EXPECT_GT(n.mean[0], n.mean[2]);
  LoadOptions lo;
  lo.holdout = 50;
  auto s = load_image_set(ImageSet::CIFAR10, dir, lo);
  EXPECT_EQ(s.train.size(), 150);
  EXPECT_EQ(s.test.size(), 50);
  EXPECT_TRUE(torch::equal(s.test.images, b.images.narrow(0, 150, 50)));
}

// ---- batches ----------------------------------------------------------------------------------------
TEST(BatchLoader, EveryRecordOncePerEpochDeterministicOrder) {
  ImageData d;
  d.images = torch::arange(0, 37 * 4, torch::kInt64).remainder(256).to(torch::kUInt8).view({37, 1, 2, 2});
  d.labels = torch::arange(37, torch::kInt64);
  BatchLoader a(d, 8, true, {}, {{0.f}, {1.f}}, 5), b(d, 8, true, {}, {{0.f}, {1.f}}, 5);
  EXPECT_EQ(a.num_batches(), 5);
  auto order = [](BatchLoader& l, int64_t epoch) {
    l.set_epoch(epoch);
    std::vector<int64_t> o;
    for (int64_t i = 0; i < l.num_batches(); ++i) {
      auto bt = l.batch(i);
      for (int64_t j = 0; j < bt.labels.size(0); ++j) o.push_back(bt.labels[j].item<int64_t>());
    }
    return o;
  };
  auto e0 = order(a, 0), e1 = order(a, 1);
  EXPECT_EQ(e0.size(), 37u);
  EXPECT_EQ(std::set<int64_t>(e0.begin(), e0.end()).size(), 37u);
  EXPECT_NE(e0, e1);
  EXPECT_EQ(order(b, 1), e1);  // a function of (seed, epoch) only
  EXPECT_EQ(order(b, 0), e0);
  BatchLoader fixed(d, 8, false, {}, {{0.f}, {1.f}}, 5);
  auto f = order(fixed, 3);
  for (int i = 0; i < 37; ++i) EXPECT_EQ(f[i], i);
  EXPECT_EQ(fixed.batch(4).labels.size(0), 5);  // last partial batch
}

TEST(BatchLoader, NormalisationMatchesTheFormula) {
  auto b = read_cifar10_bin(kShared + "/cifar10/data_batch_1_first200.bin");
  ImageData d{b.images, b.labels, {}, false};
  auto norm = default_normalization(ImageSet::CIFAR10);
  BatchLoader l(d, 16, false, {}, norm, 0);
  auto bt = l.batch(1);
  auto expect = normalize_images(b.images.narrow(0, 16, 16), norm);
  EXPECT_TRUE(torch::allclose(bt.images, expect, 1e-5, 1e-5));
  EXPECT_TRUE(torch::equal(bt.labels, b.labels.narrow(0, 16, 16)));
}

TEST(BatchLoader, CropWithPaddingAndFlipAreRealCropsAndFlips) {
  auto b = read_cifar10_bin(kShared + "/cifar10/data_batch_1_first200.bin");
  ImageData d{b.images, b.labels, {}, false};
  auto norm = default_normalization(ImageSet::CIFAR10);
  BatchLoader l(d, 50, false, {4, true}, norm, 11);
  l.set_epoch(2);
  auto bt = l.batch(0);
  // Reference: pad with zeros by 4, try every crop offset and flip.
  auto padded = torch::constant_pad_nd(b.images.narrow(0, 0, 50).to(torch::kFloat), {4, 4, 4, 4}, 0);
  auto mean = torch::tensor(norm.mean).view({3, 1, 1}), sd = torch::tensor(norm.stddev).view({3, 1, 1});
  int flips = 0, shifted = 0;
  for (int i = 0; i < 50; ++i) {
    bool found = false;
    for (int dy = 0; dy <= 8 && !found; ++dy)
      for (int dx = 0; dx <= 8 && !found; ++dx)
        for (bool fl : {false, true}) {
          auto crop = padded[i].narrow(1, dy, 32).narrow(2, dx, 32);
          if (fl) crop = crop.flip({2});
          auto want = (crop / 255.0 - mean) / sd;
          if (torch::allclose(bt.images[i], want, 1e-4, 1e-4)) {
            found = true;
            flips += fl;
            shifted += (dy != 4 || dx != 4);
            break;
          }
        }
    EXPECT_TRUE(found) << "image " << i << " is not a padded crop / flip of the source";
  }
  EXPECT_GT(flips, 10);  // about half of 50
  EXPECT_LT(flips, 40);
  EXPECT_GT(shifted, 35);  // 80 of 81 offsets move the image
  // Same (seed, epoch, batch) -> the same augmentation; another epoch -> different.
  BatchLoader l2(d, 50, false, {4, true}, norm, 11);
  l2.set_epoch(2);
  EXPECT_TRUE(torch::equal(l2.batch(0).images, bt.images));
  l2.set_epoch(3);
  EXPECT_FALSE(torch::equal(l2.batch(0).images, bt.images));
}

TEST(BatchLoader, RejectsMismatchedNormalisation) {
  ImageData d;
  d.images = torch::zeros({4, 3, 2, 2}, torch::kUInt8);
  d.labels = torch::zeros({4}, torch::kInt64);
  EXPECT_THROW(BatchLoader(d, 2, false, {}, default_normalization(ImageSet::MNIST), 0), std::invalid_argument);
  EXPECT_THROW(BatchLoader(d, 0, false, {}, default_normalization(ImageSet::CIFAR10), 0), std::invalid_argument);
}
