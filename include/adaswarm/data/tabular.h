// Tabular classification data: column roles, label mapping, missing values,
// categorical one-hot encoding, stratified splits and standardisation fitted on
// the training split only.
//
//   TabularSpec spec;  spec.path = "my.csv"; spec.csv.header = true;
//   spec.label = ColumnRef::parse("Survived"); spec.categorical = {ColumnRef::parse("Sex")};
//   Dataset d = load_tabular(spec);                       // throws DataError "file:line: ..."
//   Split s = stratified_split(d.labels, 0.2, /*seed=*/1);
//   Prepared p = prepare(d, s);                           // float tensors, train-only statistics
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adaswarm/data/csv.h"

namespace adaswarm::data {

/// A column by 0-based index or by header name.
struct ColumnRef {
  std::string name;
  int64_t index = -1;
  /// "3" -> index 3; anything else -> a name.
  static ColumnRef parse(const std::string& text);
  static ColumnRef at(int64_t index);
  /// Negative indices count from the end (-1 = last column).
  int64_t resolve(const CsvTable& table) const;
  std::string to_string() const;
};

struct TabularSpec {
  std::string name;  ///< shown in messages and tables
  std::string path;
  CsvOptions csv;
  ColumnRef label = ColumnRef::at(-1);
  std::vector<ColumnRef> categorical;  ///< one-hot encoded
  std::vector<ColumnRef> drop;         ///< ignored (ids, free text)
  std::vector<std::string> missing_tokens = {"?", ""};
  /// Numeric labels: class "1" when value > threshold, else "0".
  std::optional<double> label_threshold;
  /// Expected labels (after the threshold); a row with another label is an
  /// error naming its line. Empty: every label seen is a class.
  std::vector<std::string> classes;
};

/// A loaded data set. Numeric features keep NaN for missing values and
/// categorical ones -1: imputation happens in prepare(), from the training
/// split only.
struct Dataset {
  std::string name;
  std::string source;
  std::vector<std::string> numeric_names;
  std::vector<double> numeric;  ///< rows x numeric_names.size(), row-major, NaN = missing
  std::vector<std::string> categorical_names;
  std::vector<std::vector<std::string>> categories;  ///< per categorical column, sorted
  std::vector<int64_t> codes;                        ///< rows x categorical_names.size(), -1 = missing
  std::vector<int64_t> labels;                       ///< class index per row
  std::vector<std::string> class_names;
  int64_t missing_numeric = 0;
  int64_t missing_categorical = 0;

  int64_t rows() const { return static_cast<int64_t>(labels.size()); }
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
  /// Input width after one-hot encoding.
  int64_t num_features() const;
  std::vector<int64_t> class_counts() const;
};

Dataset load_tabular(const TabularSpec& spec);
Dataset load_tabular(const CsvTable& table, const TabularSpec& spec);

struct Split {
  std::vector<int64_t> train;  ///< row indices, sorted
  std::vector<int64_t> test;
};
/// Per class, round(test_fraction * count) rows (at least 1 when the class has
/// 2 or more) go to the test split, chosen by a seeded shuffle.
Split stratified_split(const std::vector<int64_t>& labels, double test_fraction, uint64_t seed);

struct PrepareOptions {
  /// Standardise numeric features with the training split's mean and std
  /// (one-hot columns stay 0/1). false: raw values.
  bool standardize = true;
};

struct Prepared {
  at::Tensor x_train, y_train, x_test, y_test;  ///< float32 [N, F]; int64 [N]
  std::vector<std::string> feature_names;
  std::vector<double> mean, scale;       ///< per numeric feature (scale 1 when not standardised)
  std::vector<double> numeric_fill;      ///< training medians used for missing numeric values
  std::vector<int64_t> categorical_fill; ///< training modes used for missing categories
  int64_t num_classes = 0;
};

/// Imputes (numeric: training median; categorical: training mode), one-hot
/// encodes and standardises; every statistic comes from split.train only.
Prepared prepare(const Dataset& data, const Split& split, const PrepareOptions& options = {});

}  // namespace adaswarm::data
