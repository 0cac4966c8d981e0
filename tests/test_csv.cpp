// CSV reader and tabular loading: quoting, line ends, missing values,
// categorical encoding, and every malformed-file case naming file and line.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "adaswarm/data/csv.h"
#include "adaswarm/data/tabular.h"

using namespace adaswarm::data;

namespace {

std::string temp_file(const std::string& name, const std::string& content) {
  const auto dir = std::filesystem::temp_directory_path() / ("adaswarm_test_csv_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

/// Runs f, expects a DataError whose message names `file` and `line`, and returns the message.
template <typename F>
std::string expect_data_error(F&& f, const std::string& file, int64_t line) {
  try {
    f();
  } catch (const DataError& e) {
    EXPECT_EQ(e.file(), file);
    EXPECT_EQ(e.line(), line);
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file), std::string::npos) << msg;
    if (line > 0) EXPECT_NE(msg.find(file + ":" + std::to_string(line) + ":"), std::string::npos) << msg;
    return msg;
  }
  ADD_FAILURE() << "no DataError thrown";
  return "";
}

}  // namespace

TEST(Csv, QuotedFieldsEscapesAndEmbeddedNewlines) {
  const auto t = parse_csv("a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",z\n", "mem.csv", {',', false, true});
  ASSERT_EQ(t.header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][1], "x, y");
  EXPECT_EQ(t.rows[0][2], "say \"hi\"");
  EXPECT_EQ(t.rows[1][1], "two\nlines");
  EXPECT_EQ(t.lines[0], 2);
  EXPECT_EQ(t.lines[1], 3);
}

TEST(Csv, LineEndsBomBlankLinesAndTrimming) {
  for (const std::string eol : {"\n", "\r\n", "\r"}) {
    const std::string text = "\xEF\xBB\xBF" "1, 2 ,3" + eol + eol + "4,5,6" + eol;
    const auto t = parse_csv(text, "eol.csv");
    ASSERT_EQ(t.rows.size(), 2u) << "eol size " << eol.size();
    EXPECT_EQ(t.rows[0], (std::vector<std::string>{"1", "2", "3"}));
    EXPECT_EQ(t.rows[1], (std::vector<std::string>{"4", "5", "6"}));
    EXPECT_EQ(t.lines[1], 3);  // the blank line still counts
  }
  // no final newline, empty fields kept
  const auto t = parse_csv("1,,3\n4,5,", "e.csv");
  EXPECT_EQ(t.rows[0][1], "");
  EXPECT_EQ(t.rows[1][2], "");
}

TEST(Csv, WhitespaceSeparated) {
  CsvOptions o;
  o.whitespace = true;
  const auto t = parse_csv("  1.0  2 3\n4\t5   6  \n", "ws.dat", o);
  ASSERT_EQ(t.columns(), 3);
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"4", "5", "6"}));
}

TEST(CsvErrors, RaggedRowNamesFileAndLine) {
  const auto path = temp_file("ragged.csv", "1,2,a\n3,4,b\n\n5,6\n");
  const auto msg = expect_data_error([&] { read_csv(path); }, path, 4);
  EXPECT_NE(msg.find("ragged"), std::string::npos) << msg;
}

TEST(CsvErrors, UnterminatedQuoteNamesItsLine) {
  expect_data_error([] { parse_csv("a,b\n1,\"open\n2,3\n", "q.csv"); }, "q.csv", 2);
}

TEST(CsvErrors, EmptyAndHeaderOnlyAndMissingFiles) {
  const auto empty = temp_file("empty.csv", "");
  expect_data_error([&] { read_csv(empty); }, empty, 0);
  const auto blank = temp_file("blank.csv", "\n\r\n  \n");
  expect_data_error([&] { read_csv(blank); }, blank, 0);
  CsvOptions h;
  h.header = true;
  const auto header_only = temp_file("header.csv", "a,b,label\n");
  expect_data_error([&] { read_csv(header_only, h); }, header_only, 0);
  const std::string missing = "/nonexistent/dir/none.csv";
  const auto msg = expect_data_error([&] { read_csv(missing); }, missing, 0);
  EXPECT_NE(msg.find("cannot open"), std::string::npos);
}

TEST(Tabular, NonNumericValueInNumericColumnNamesLineAndColumn) {
  const auto path = temp_file("nonnum.csv", "x,y,label\n1,2,a\n3,abc,b\n");
  TabularSpec s;
  s.path = path;
  s.csv.header = true;
  s.label = ColumnRef::parse("label");
  const auto msg = expect_data_error([&] { load_tabular(s); }, path, 3);
  EXPECT_NE(msg.find("'abc'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'y'"), std::string::npos) << msg;
  // declared categorical, the same file loads
  s.categorical = {ColumnRef::parse("y")};
  const auto d = load_tabular(s);
  EXPECT_EQ(d.categories[0], (std::vector<std::string>{"2", "abc"}));
}

TEST(Tabular, UnknownAndMissingLabelsNameTheirLine) {
  const auto path = temp_file("labels.csv", "1,2,cat\n3,4,dog\n5,6,cow\n");
  TabularSpec s;
  s.path = path;
  s.classes = {"cat", "dog"};
  const auto msg = expect_data_error([&] { load_tabular(s); }, path, 3);
  EXPECT_NE(msg.find("'cow'"), std::string::npos) << msg;
  const auto path2 = temp_file("nolabel.csv", "1,2,cat\n3,4,?\n");
  TabularSpec s2;
  s2.path = path2;
  expect_data_error([&] { load_tabular(s2); }, path2, 2);
  // a single class is not a classification problem
  const auto path3 = temp_file("oneclass.csv", "1,a\n2,a\n");
  TabularSpec s3;
  s3.path = path3;
  expect_data_error([&] { load_tabular(s3); }, path3, 0);
}

TEST(Tabular, BadColumnReferences) {
  const auto path = temp_file("cols.csv", "a,b,c\n1,2,x\n3,4,y\n");
  TabularSpec s;
  s.path = path;
  s.csv.header = true;
  s.label = ColumnRef::parse("nope");
  auto msg = expect_data_error([&] { load_tabular(s); }, path, 0);
  EXPECT_NE(msg.find("'nope'"), std::string::npos);
  s.label = ColumnRef::parse("7");
  expect_data_error([&] { load_tabular(s); }, path, 0);
}

TEST(Tabular, MissingValuesImputedFromTrainingSplitOnly) {
  // column x: training rows 0..3 have 1, 2, ?, 10 (median 2); the test row has 1000.
  // column c: categorical with a missing value; training mode is "b".
  const std::string text = "1,b,0\n2,b,1\n?,a,0\n10,?,1\n1000,a,0\n7,b,1\n";
  TabularSpec s;
  s.categorical = {ColumnRef::at(1)};
  const auto d = load_tabular(parse_csv(text, "m.csv"), s);
  EXPECT_EQ(d.missing_numeric, 1);
  EXPECT_EQ(d.missing_categorical, 1);
  EXPECT_TRUE(std::isnan(d.numeric[2]));
  EXPECT_EQ(d.codes[3], -1);
  Split split;
  split.train = {0, 1, 2, 3};
  split.test = {4, 5};
  PrepareOptions raw;
  raw.standardize = false;
  const auto p = prepare(d, split, raw);
  EXPECT_DOUBLE_EQ(p.numeric_fill[0], 2.0);  // median of 1, 2, 10
  EXPECT_FLOAT_EQ(p.x_train[2][0].item<float>(), 2.0f);
  // one-hot: features x, c=a, c=b ; row 3's missing category -> training mode "b"
  EXPECT_EQ(p.feature_names, (std::vector<std::string>{"x0", "x1=a", "x1=b"}));
  EXPECT_EQ(p.x_train.size(1), 3);
  EXPECT_EQ(p.categorical_fill[0], 1);
  EXPECT_FLOAT_EQ(p.x_train[3][1].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(p.x_train[3][2].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(p.x_test[0][0].item<float>(), 1000.0f);
}

TEST(Tabular, StandardisationUsesTrainingStatisticsOnly) {
  const std::string text = "0,a\n2,b\n4,a\n6,b\n1000,a\n-1000,b\n";
  const auto d = load_tabular(parse_csv(text, "s.csv"), TabularSpec{});
  Split split;
  split.train = {0, 1, 2, 3};
  split.test = {4, 5};
  const auto p = prepare(d, split);
  // train mean 3, population std sqrt(5): the outlying test rows do not move them
  EXPECT_NEAR(p.mean[0], 3.0, 1e-12);
  EXPECT_NEAR(p.scale[0], std::sqrt(5.0), 1e-12);
  EXPECT_NEAR(p.x_train.mean().item<float>(), 0.0, 1e-6);
  EXPECT_NEAR(p.x_test[0][0].item<float>(), (1000.0 - 3.0) / std::sqrt(5.0), 1e-3);
  // changing the test rows leaves the training tensor identical (no leakage)
  const auto d2 = load_tabular(parse_csv("0,a\n2,b\n4,a\n6,b\n5,a\n5,b\n", "s2.csv"), TabularSpec{});
  const auto p2 = prepare(d2, split);
  EXPECT_TRUE(p.x_train.equal(p2.x_train));
}

TEST(Tabular, LabelThresholdAndNumericLabelOrder) {
  TabularSpec s;
  s.label_threshold = 0.0;
  const auto d = load_tabular(parse_csv("1,0\n2,3\n3,1\n4,0\n", "t.csv"), s);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(d.labels, (std::vector<int64_t>{0, 1, 1, 0}));
  // without a list, numeric labels sort numerically (10 after 9)
  const auto d2 = load_tabular(parse_csv("1,10\n2,9\n3,2\n", "n.csv"), TabularSpec{});
  EXPECT_EQ(d2.class_names, (std::vector<std::string>{"2", "9", "10"}));
}

TEST(Tabular, StratifiedSplitKeepsClassSharesAndIsSeeded) {
  std::vector<int64_t> labels;
  for (int i = 0; i < 100; ++i) labels.push_back(0);
  for (int i = 0; i < 30; ++i) labels.push_back(1);
  for (int i = 0; i < 7; ++i) labels.push_back(2);
  const auto s = stratified_split(labels, 0.2, 5);
  std::vector<int64_t> test_counts(3, 0);
  for (auto i : s.test) ++test_counts[static_cast<size_t>(labels[static_cast<size_t>(i)])];
  EXPECT_EQ(test_counts, (std::vector<int64_t>{20, 6, 1}));
  EXPECT_EQ(s.train.size() + s.test.size(), labels.size());
  std::vector<int64_t> all = s.train;
  all.insert(all.end(), s.test.begin(), s.test.end());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<int64_t>(i));  // a partition
  EXPECT_EQ(stratified_split(labels, 0.2, 5).test, s.test);
  EXPECT_NE(stratified_split(labels, 0.2, 6).test, s.test);
}
