// A small, strict CSV reader for tabular data sets (UCI files, user CSVs).
//
// Handles quoted fields ("a, b", "" escapes, newlines inside quotes), CRLF / CR /
// LF line ends, a UTF-8 byte-order mark, blank lines (skipped), an optional
// header and whitespace-separated files. Every error names the file and the
// line: ragged rows, an unterminated quote, an empty file, a missing file.
#pragma once
#include <cstdint>
#include <istream>
#include <stdexcept>
#include <string>
#include <vector>

namespace adaswarm::data {

/// Bad input: the message reads "FILE:LINE: what" (or "FILE: what" when no line applies).
class DataError : public std::runtime_error {
 public:
  DataError(const std::string& file, int64_t line, const std::string& what);
  const std::string& file() const { return file_; }
  /// 1-based line, 0 when the error concerns the whole file.
  int64_t line() const { return line_; }

 private:
  std::string file_;
  int64_t line_;
};

struct CsvOptions {
  char delimiter = ',';
  /// Split on runs of spaces and tabs instead of `delimiter` (e.g. Statlog .dat files).
  bool whitespace = false;
  /// The first non-blank line names the columns.
  bool header = false;
  char quote = '"';
  /// Strip spaces and tabs around unquoted field text.
  bool trim = true;
};

struct CsvTable {
  std::string source;                          ///< file name used in error messages
  std::vector<std::string> header;             ///< empty without a header
  std::vector<std::vector<std::string>> rows;  ///< every row has columns() fields
  std::vector<int64_t> lines;                  ///< 1-based line where each row starts
  int64_t columns() const;
};

/// Reads a file; throws DataError (missing file, empty file, ragged row, bad quote).
CsvTable read_csv(const std::string& path, const CsvOptions& options = {});
/// Parses text; `source` names it in errors.
CsvTable parse_csv(const std::string& text, const std::string& source, const CsvOptions& options = {});
CsvTable parse_csv(std::istream& in, const std::string& source, const CsvOptions& options = {});

}  // namespace adaswarm::data
