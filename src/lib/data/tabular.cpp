#include "adaswarm/data/tabular.h"

#include <ATen/ATen.h>  // at::zeros, at::empty (not only through the precompiled header)

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace adaswarm::data {

namespace {

bool parse_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  const char* b = s.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(b, &end);
  if (end == b || *end != '\0' || errno == ERANGE || !std::isfinite(v)) return false;
  out = v;
  return true;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

/// Sorted numerically when every value is a number, else lexicographically.
void sort_values(std::vector<std::string>& values) {
  bool numeric = true;
  for (const auto& v : values) {
    double d;
    if (!parse_double(v, d)) {
      numeric = false;
      break;
    }
  }
  if (numeric) {
    std::sort(values.begin(), values.end(), [](const std::string& a, const std::string& b) {
      return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
    });
  } else {
    std::sort(values.begin(), values.end());
  }
}

std::string column_label(const CsvTable& t, int64_t c) {
  if (!t.header.empty()) return fmt::format("column {} ('{}')", c, t.header[static_cast<size_t>(c)]);
  return fmt::format("column {}", c);
}

std::string format_double(double v) {
  return fmt::format("{}", v);
}

}  // namespace

// ---------------------------------------------------------------------------
ColumnRef ColumnRef::parse(const std::string& text) {
  ColumnRef r;
  const std::string t = trim(text);
  bool digits = !t.empty();
  size_t start = (t.size() > 1 && t[0] == '-') ? 1 : 0;
  for (size_t i = start; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') digits = false;
  if (digits && start < t.size()) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (errno == ERANGE)
      throw std::invalid_argument(fmt::format("column index {} is out of range (expected a 0-based column index)", t));
    r.index = v;
  } else
    r.name = t;
  if (digits && start < t.size()) r.name.clear();
  return r;
}

ColumnRef ColumnRef::at(int64_t index) {
  ColumnRef r;
  r.index = index;
  return r;
}

std::string ColumnRef::to_string() const { return name.empty() ? std::to_string(index) : "'" + name + "'"; }

int64_t ColumnRef::resolve(const CsvTable& table) const {
  const int64_t n = table.columns();
  if (!name.empty()) {
    if (table.header.empty())
      throw DataError(table.source, 0, fmt::format("column '{}' named, but the file has no header", name));
    for (size_t i = 0; i < table.header.size(); ++i)
      if (trim(table.header[i]) == name) return static_cast<int64_t>(i);
    std::string known;
    for (const auto& h : table.header) known += (known.empty() ? "" : ", ") + h;
    throw DataError(table.source, 0, fmt::format("no column named '{}' (columns: {})", name, known));
  }
  const int64_t i = index < 0 ? n + index : index;
  if (i < 0 || i >= n)
    throw DataError(table.source, 0, fmt::format("column index {} out of range (the file has {} columns)", index, n));
  return i;
}

// ---------------------------------------------------------------------------
int64_t Dataset::num_features() const {
  int64_t f = static_cast<int64_t>(numeric_names.size());
  for (const auto& c : categories) f += static_cast<int64_t>(c.size());
  return f;
}

std::vector<int64_t> Dataset::class_counts() const {
  std::vector<int64_t> counts(class_names.size(), 0);
  for (auto l : labels) ++counts[static_cast<size_t>(l)];
  return counts;
}

Dataset load_tabular(const TabularSpec& spec) {
  return load_tabular(read_csv(spec.path, spec.csv), spec);
}

Dataset load_tabular(const CsvTable& table, const TabularSpec& spec) {
  const int64_t ncols = table.columns();
  const int64_t label_col = spec.label.resolve(table);
  std::vector<int> role(static_cast<size_t>(ncols), 0);  // 0 numeric, 1 categorical, 2 drop, 3 label
  for (const auto& r : spec.drop) {
    const int64_t c = r.resolve(table);
    if (c == label_col)
      throw DataError(table.source, 0, fmt::format("column {} is the label; it cannot also be dropped", r.to_string()));
    role[static_cast<size_t>(c)] = 2;
  }
  for (const auto& r : spec.categorical) {
    const int64_t c = r.resolve(table);
    if (c == label_col) throw DataError(table.source, 0, fmt::format("column {} is the label; it cannot also be categorical", r.to_string()));
    role[static_cast<size_t>(c)] = 1;
  }
  role[static_cast<size_t>(label_col)] = 3;

  auto is_missing = [&](const std::string& s) {
    return std::find(spec.missing_tokens.begin(), spec.missing_tokens.end(), s) != spec.missing_tokens.end();
  };
  auto name_of = [&](int64_t c) {
    return table.header.empty() ? fmt::format("x{}", c) : trim(table.header[static_cast<size_t>(c)]);
  };

  Dataset d;
  d.name = spec.name.empty() ? table.source : spec.name;
  d.source = table.source;
  std::vector<int64_t> num_cols, cat_cols;
  for (int64_t c = 0; c < ncols; ++c) {
    if (role[static_cast<size_t>(c)] == 0) {
      num_cols.push_back(c);
      d.numeric_names.push_back(name_of(c));
    } else if (role[static_cast<size_t>(c)] == 1) {
      cat_cols.push_back(c);
      d.categorical_names.push_back(name_of(c));
    }
  }
  if (num_cols.empty() && cat_cols.empty()) throw DataError(table.source, 0, "no feature columns left");

  const size_t nrows = table.rows.size();
  d.numeric.resize(nrows * num_cols.size());
  std::vector<std::vector<std::string>> cat_raw(cat_cols.size(), std::vector<std::string>(nrows));
  std::vector<std::string> label_raw(nrows);

  for (size_t r = 0; r < nrows; ++r) {
    const auto& row = table.rows[r];
    const int64_t line = table.lines[r];
    // label
    std::string lab = trim(row[static_cast<size_t>(label_col)]);
    if (is_missing(lab)) throw DataError(table.source, line, fmt::format("missing label in {}", column_label(table, label_col)));
    if (spec.label_threshold) {
      double v;
      if (!parse_double(lab, v))
        throw DataError(table.source, line, fmt::format("label '{}' in {} is not a number", lab, column_label(table, label_col)));
      lab = v > *spec.label_threshold ? "1" : "0";
    }
    if (!spec.classes.empty() && std::find(spec.classes.begin(), spec.classes.end(), lab) == spec.classes.end()) {
      std::string known;
      for (const auto& c : spec.classes) known += (known.empty() ? "" : ", ") + c;
      throw DataError(table.source, line, fmt::format("unknown label '{}' (expected one of: {})", lab, known));
    }
    label_raw[r] = lab;
    // numeric
    for (size_t j = 0; j < num_cols.size(); ++j) {
      const std::string v = trim(row[static_cast<size_t>(num_cols[j])]);
      double x;
      if (is_missing(v)) {
        x = std::nan("");
        ++d.missing_numeric;
      } else if (!parse_double(v, x)) {
        throw DataError(table.source, line,
                        fmt::format("'{}' in {} is not a number (declare the column categorical?)", v,
                                    column_label(table, num_cols[j])));
      }
      d.numeric[r * num_cols.size() + j] = x;
    }
    for (size_t j = 0; j < cat_cols.size(); ++j) cat_raw[j][r] = trim(row[static_cast<size_t>(cat_cols[j])]);
  }

  // labels -> indices
  if (!spec.classes.empty()) {
    d.class_names = spec.classes;
  } else {
    std::set<std::string> seen(label_raw.begin(), label_raw.end());
    d.class_names.assign(seen.begin(), seen.end());
    sort_values(d.class_names);
  }
  if (d.class_names.size() < 2)
    throw DataError(table.source, 0, fmt::format("only {} distinct label(s): a classifier needs at least 2", d.class_names.size()));
  {
    std::map<std::string, int64_t> index;
    for (size_t i = 0; i < d.class_names.size(); ++i) index[d.class_names[i]] = static_cast<int64_t>(i);
    d.labels.resize(nrows);
    for (size_t r = 0; r < nrows; ++r) d.labels[r] = index.at(label_raw[r]);
  }

  // categorical -> codes
  d.codes.assign(nrows * cat_cols.size(), -1);
  for (size_t j = 0; j < cat_cols.size(); ++j) {
    std::set<std::string> seen;
    for (const auto& v : cat_raw[j])
      if (!is_missing(v)) seen.insert(v);
    // No value at all: no category to one-hot encode nor to impute with.
    if (seen.empty())
      throw DataError(table.source, 0,
                      fmt::format("categorical {} has no values (every one is missing): drop it", column_label(table, cat_cols[j])));
    std::vector<std::string> vocab(seen.begin(), seen.end());
    sort_values(vocab);
    std::map<std::string, int64_t> index;
    for (size_t i = 0; i < vocab.size(); ++i) index[vocab[i]] = static_cast<int64_t>(i);
    for (size_t r = 0; r < nrows; ++r) {
      const auto& v = cat_raw[j][r];
      if (is_missing(v)) {
        ++d.missing_categorical;
      } else {
        d.codes[r * cat_cols.size() + j] = index.at(v);
      }
    }
    d.categories.push_back(std::move(vocab));
  }
  (void)format_double;
  return d;
}

// ---------------------------------------------------------------------------
Split stratified_split(const std::vector<int64_t>& labels, double test_fraction, uint64_t seed) {
  if (!(test_fraction > 0.0 && test_fraction < 1.0))
    throw std::invalid_argument(fmt::format("test fraction must be in (0, 1), got {}", test_fraction));
  int64_t num_classes = 0;
  for (auto l : labels) num_classes = std::max(num_classes, l + 1);
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 0x5851F42D4C957F2DULL);
  Split s;
  for (auto& idx : by_class) {
    // Fisher-Yates with our own draw (std::shuffle's algorithm is implementation-defined).
    for (size_t i = idx.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(rng() % i);
      std::swap(idx[i - 1], idx[j]);
    }
    const int64_t n = static_cast<int64_t>(idx.size());
    int64_t k = static_cast<int64_t>(std::llround(test_fraction * static_cast<double>(n)));
    if (n >= 2) k = std::clamp<int64_t>(k, 1, n - 1);
    else k = 0;
    s.test.insert(s.test.end(), idx.begin(), idx.begin() + k);
    s.train.insert(s.train.end(), idx.begin() + k, idx.end());
  }
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.test.begin(), s.test.end());
  return s;
}

// ---------------------------------------------------------------------------
Prepared prepare(const Dataset& data, const Split& split, const PrepareOptions& options) {
  if (split.train.empty()) throw std::invalid_argument("prepare: empty training split");
  const size_t nn = data.numeric_names.size();
  const size_t nc = data.categorical_names.size();
  Prepared p;
  p.num_classes = data.num_classes();
  // training medians for missing numeric values
  p.numeric_fill.assign(nn, 0.0);
  for (size_t j = 0; j < nn; ++j) {
    std::vector<double> v;
    v.reserve(split.train.size());
    for (auto r : split.train) {
      const double x = data.numeric[static_cast<size_t>(r) * nn + j];
      if (!std::isnan(x)) v.push_back(x);
    }
    if (!v.empty()) {
      std::sort(v.begin(), v.end());
      const size_t m = v.size() / 2;
      p.numeric_fill[j] = v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
    }
  }
  // training modes for missing categories
  p.categorical_fill.assign(nc, 0);
  for (size_t j = 0; j < nc; ++j) {
    std::vector<int64_t> counts(data.categories[j].size(), 0);
    for (auto r : split.train) {
      const int64_t c = data.codes[static_cast<size_t>(r) * nc + j];
      if (c >= 0) ++counts[static_cast<size_t>(c)];
    }
    if (!counts.empty())
      p.categorical_fill[j] = std::max_element(counts.begin(), counts.end()) - counts.begin();  // first on ties
  }
  auto numeric_value = [&](int64_t r, size_t j) {
    const double x = data.numeric[static_cast<size_t>(r) * nn + j];
    return std::isnan(x) ? p.numeric_fill[j] : x;
  };
  // standardisation from the training split only
  p.mean.assign(nn, 0.0);
  p.scale.assign(nn, 1.0);
  if (options.standardize) {
    const double n = static_cast<double>(split.train.size());
    for (size_t j = 0; j < nn; ++j) {
      double s = 0.0;
      for (auto r : split.train) s += numeric_value(r, j);
      const double mean = s / n;
      double ss = 0.0;
      for (auto r : split.train) {
        const double d = numeric_value(r, j) - mean;
        ss += d * d;
      }
      const double sd = std::sqrt(ss / n);
      p.mean[j] = mean;
      p.scale[j] = sd > 1e-12 ? sd : 1.0;
    }
  }
  for (size_t j = 0; j < nn; ++j) p.feature_names.push_back(data.numeric_names[j]);
  for (size_t j = 0; j < nc; ++j)
    for (const auto& cat : data.categories[j]) p.feature_names.push_back(data.categorical_names[j] + "=" + cat);
  const int64_t f = data.num_features();

  auto build = [&](const std::vector<int64_t>& rows, at::Tensor& x, at::Tensor& y) {
    const int64_t n = static_cast<int64_t>(rows.size());
    x = at::zeros({n, f}, at::kFloat);
    y = at::empty({n}, at::kLong);
    float* xp = x.data_ptr<float>();
    int64_t* yp = y.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = rows[static_cast<size_t>(i)];
      float* row = xp + i * f;
      for (size_t j = 0; j < nn; ++j) row[j] = static_cast<float>((numeric_value(r, j) - p.mean[j]) / p.scale[j]);
      int64_t off = static_cast<int64_t>(nn);
      for (size_t j = 0; j < nc; ++j) {
        int64_t c = data.codes[static_cast<size_t>(r) * nc + j];
        if (c < 0) c = p.categorical_fill[j];
        // A column without categories has no one-hot slot (load_tabular refuses
        // one; a hand-made Dataset may still hold it).
        if (c < static_cast<int64_t>(data.categories[j].size())) row[off + c] = 1.0f;
        off += static_cast<int64_t>(data.categories[j].size());
      }
      yp[i] = data.labels[static_cast<size_t>(r)];
    }
  };
  build(split.train, p.x_train, p.y_train);
  build(split.test, p.x_test, p.y_test);
  return p;
}

}  // namespace adaswarm::data
