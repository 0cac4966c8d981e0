// The 15 UCI data sets of the AdaSwarm paper (Tables IV, V and supplementary
// Table 5): name -> file, parser settings, label column, categorical columns.
// The files ship in the project under data/uci (see data/uci/README.md).
#pragma once
#include <string>
#include <vector>

#include "adaswarm/data/tabular.h"

namespace adaswarm::data {

struct UciSet {
  std::string key;         ///< short name used on the command line (e.g. "breast-cancer")
  std::string paper_name;  ///< the row title in the paper's tables
  std::string file;        ///< relative to the data directory (e.g. "uci/iris/iris.csv")
  TabularSpec spec;        ///< spec.path is relative (= file); see uci_spec()
  int64_t rows = 0;        ///< rows after loading
  int64_t classes = 0;
  std::string notes;       ///< quirks and choices (label mapping, threshold, imputation)
};

/// All 15 sets, in the paper's table order.
const std::vector<UciSet>& uci_registry();
/// Throws std::invalid_argument listing the known keys.
const UciSet& uci_set(const std::string& key);
/// The set's spec with the path resolved under data_dir.
TabularSpec uci_spec(const UciSet& set, const std::string& data_dir);
Dataset load_uci(const std::string& key, const std::string& data_dir);

/// First existing directory holding uci/iris/iris.csv among: `preferred`
/// (if not empty), $ADASWARM_DATA_DIR, then `candidates` in order.
/// Throws std::runtime_error listing where it looked.
std::string find_data_dir(const std::string& preferred, const std::vector<std::string>& candidates);

}  // namespace adaswarm::data
