// libFuzzer target: the CSV reader (parse_csv) and the tabular loader on top of
// it (load_tabular, stratified_split, prepare). The first input byte chooses the
// options; the rest is the file's text.
#include <cstdint>
#include <string>

#include "adaswarm/data/csv.h"
#include "adaswarm/data/tabular.h"

namespace ad = adaswarm::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t o = data[0];
  ad::CsvOptions opt;
  static const char delimiters[] = {',', ';', '\t', ' '};
  opt.delimiter = delimiters[o & 3];
  opt.whitespace = (o >> 2) & 1;
  opt.header = (o >> 3) & 1;
  opt.trim = !((o >> 4) & 1);
  opt.quote = ((o >> 5) & 1) ? '\'' : '"';
  const bool categorical = (o >> 6) & 1;
  const bool threshold = (o >> 7) & 1;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string source = "fuzz.csv";
  ad::CsvTable table;
  try {
    table = ad::parse_csv(text, source, opt);
  } catch (const ad::DataError& e) {
    if (e.file() != source) __builtin_trap();
    return 0;
  }
  // Every row has columns() fields, and a line number in the text's range.
  if (table.rows.size() != table.lines.size()) __builtin_trap();
  for (size_t i = 0; i < table.rows.size(); ++i) {
    if (static_cast<int64_t>(table.rows[i].size()) != table.columns()) __builtin_trap();
    if (table.lines[i] < 1 || (i > 0 && table.lines[i] <= table.lines[i - 1])) __builtin_trap();
  }
  ad::TabularSpec spec;
  spec.name = "fuzz";
  spec.path = source;
  spec.csv = opt;
  if (categorical && table.columns() > 1) spec.categorical = {ad::ColumnRef::at(0)};
  if (threshold) spec.label_threshold = 0.5;
  try {
    const ad::Dataset d = ad::load_tabular(table, spec);
    if (d.rows() < 2) return 0;
    const ad::Split s = ad::stratified_split(d.labels, 0.25, 1);
    if (s.train.empty()) return 0;
    (void)ad::prepare(d, s);
  } catch (const ad::DataError& e) {
    if (e.file() != source) __builtin_trap();
  }
  return 0;
}
