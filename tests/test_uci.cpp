// The 15 shipped UCI sets of the paper: shapes, class counts, missing values,
// categorical encoding, stratified splits, and no test-set leakage into the scaler.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "adaswarm/data/uci.h"

using namespace adaswarm::data;

namespace {
const std::string kDataDir = ADASWARM_DATA_DIR;

struct Expect {
  int64_t rows, features, classes, missing_numeric, missing_categorical;
};
// Features after one-hot encoding. Counted independently of the loader (awk /
// Python over the raw files) when these expectations were written.
const std::map<std::string, Expect> kExpect = {
    {"iris", {150, 4, 3, 0, 0}},          {"ionosphere", {351, 34, 2, 0, 0}},
    {"breast-cancer", {699, 9, 2, 16, 0}}, {"sonar", {208, 60, 2, 0, 0}},
    {"seeds", {210, 7, 3, 0, 0}},          {"banknote", {1372, 4, 2, 0, 0}},
    {"heart", {303, 13, 2, 6, 0}},         {"haberman", {306, 3, 2, 0, 0}},
    {"wine", {178, 13, 3, 0, 0}},          {"car", {1728, 21, 4, 0, 0}},
    {"liver", {583, 11, 2, 4, 0}},         {"abalone", {4177, 10, 2, 0, 0}},
    {"titanic", {891, 10, 2, 177, 2}},     {"pima", {768, 8, 2, 0, 0}},
    {"mushroom", {8124, 116, 2, 0, 2480}},
};
}  // namespace

TEST(Uci, RegistryHasTheFifteenPaperSets) {
  ASSERT_EQ(uci_registry().size(), 15u);
  std::set<std::string> keys;
  for (const auto& s : uci_registry()) keys.insert(s.key);
  for (const auto& [k, e] : kExpect) EXPECT_TRUE(keys.count(k)) << k;
  EXPECT_THROW(uci_set("no-such-set"), std::invalid_argument);
}

TEST(Uci, EverySetLoadsWithItsShapeClassesAndMissingValues) {
  for (const auto& set : uci_registry()) {
    SCOPED_TRACE(set.key);
    const Dataset d = load_uci(set.key, kDataDir);
    const auto& e = kExpect.at(set.key);
    EXPECT_EQ(d.rows(), e.rows);
    EXPECT_EQ(d.rows(), set.rows);
    EXPECT_EQ(d.num_features(), e.features);
    EXPECT_EQ(d.num_classes(), e.classes);
    EXPECT_EQ(d.num_classes(), set.classes);
    EXPECT_EQ(d.missing_numeric, e.missing_numeric);
    EXPECT_EQ(d.missing_categorical, e.missing_categorical);
    for (auto c : d.class_counts()) EXPECT_GT(c, 0);
  }
}

TEST(Uci, ClassCountsMatchTheRawFiles) {
  EXPECT_EQ(load_uci("iris", kDataDir).class_counts(), (std::vector<int64_t>{50, 50, 50}));
  EXPECT_EQ(load_uci("breast-cancer", kDataDir).class_counts(), (std::vector<int64_t>{458, 241}));
  EXPECT_EQ(load_uci("heart", kDataDir).class_counts(), (std::vector<int64_t>{164, 139}));        // 0 vs 1..4
  EXPECT_EQ(load_uci("abalone", kDataDir).class_counts(), (std::vector<int64_t>{3217, 960}));     // rings > 11
  EXPECT_EQ(load_uci("mushroom", kDataDir).class_counts(), (std::vector<int64_t>{4208, 3916}));   // e, p
  EXPECT_EQ(load_uci("car", kDataDir).class_counts(), (std::vector<int64_t>{1210, 384, 69, 65}));
  EXPECT_EQ(load_uci("liver", kDataDir).class_counts(), (std::vector<int64_t>{416, 167}));
  EXPECT_EQ(load_uci("titanic", kDataDir).class_counts(), (std::vector<int64_t>{549, 342}));
}

TEST(Uci, TitanicUsesSevenFeaturesWithOneHotSexAndPort) {
  const Dataset d = load_uci("titanic", kDataDir);
  EXPECT_EQ(d.numeric_names, (std::vector<std::string>{"Pclass", "Age", "SibSp", "Parch", "Fare"}));
  EXPECT_EQ(d.categorical_names, (std::vector<std::string>{"Sex", "Embarked"}));
  EXPECT_EQ(d.categories[0], (std::vector<std::string>{"female", "male"}));
  EXPECT_EQ(d.categories[1], (std::vector<std::string>{"C", "Q", "S"}));
  // every prepared row has exactly one 1 in each one-hot block, missing ports included
  const auto p = prepare(d, stratified_split(d.labels, 0.2, 1));
  const auto sex = p.x_train.slice(1, 5, 7).sum(1);
  const auto port = p.x_train.slice(1, 7, 10).sum(1);
  EXPECT_TRUE(sex.eq(1).all().item<bool>());
  EXPECT_TRUE(port.eq(1).all().item<bool>());
  EXPECT_FALSE(p.x_train.isnan().any().item<bool>());
  EXPECT_FALSE(p.x_test.isnan().any().item<bool>());
}

TEST(Uci, StratifiedSplitOnRealSetsAndTrainOnlyScaling) {
  for (const std::string key : {"wine", "car", "abalone"}) {
    SCOPED_TRACE(key);
    const Dataset d = load_uci(key, kDataDir);
    const auto split = stratified_split(d.labels, 0.2, 42);
    const auto counts = d.class_counts();
    std::vector<int64_t> test_counts(counts.size(), 0);
    for (auto i : split.test) ++test_counts[static_cast<size_t>(d.labels[static_cast<size_t>(i)])];
    for (size_t c = 0; c < counts.size(); ++c)
      EXPECT_LE(std::abs(static_cast<double>(test_counts[c]) - 0.2 * static_cast<double>(counts[c])), 0.5 + 1e-9);
    const auto p = prepare(d, split);
    EXPECT_EQ(p.x_train.size(0) + p.x_test.size(0), d.rows());
    EXPECT_EQ(p.x_train.size(1), d.num_features());
    // numeric columns standardised on the training rows exactly
    const int64_t nn = static_cast<int64_t>(d.numeric_names.size());
    if (nn > 0) {
      const auto xs = p.x_train.slice(1, 0, nn).to(at::kDouble);
      EXPECT_LT(xs.mean(0).abs().max().item<double>(), 1e-5);
      EXPECT_LT((xs.std(0, /*unbiased=*/false) - 1).abs().max().item<double>(), 1e-4);
      // the test rows are NOT standardised to mean 0 (their own statistics are not used)
      const auto xt = p.x_test.slice(1, 0, nn).to(at::kDouble);
      EXPECT_GT(xt.mean(0).abs().max().item<double>(), 1e-4);
    }
  }
}

TEST(Uci, FindDataDir) {
  EXPECT_EQ(find_data_dir(kDataDir, {}), kDataDir);
  EXPECT_EQ(find_data_dir("", {"/nonexistent", kDataDir}), kDataDir);
  EXPECT_THROW(find_data_dir("/nonexistent", {kDataDir}), std::runtime_error);
}
