#include "adaswarm/data/csv.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace adaswarm::data {

namespace {
std::string make_message(const std::string& file, int64_t line, const std::string& what) {
  if (line > 0) return fmt::format("{}:{}: {}", file, line, what);
  return fmt::format("{}: {}", file, what);
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string trimmed(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_blank(s[b])) ++b;
  while (e > b && is_blank(s[e - 1])) --e;
  return s.substr(b, e - b);
}
}  // namespace

DataError::DataError(const std::string& file, int64_t line, const std::string& what)
    : std::runtime_error(make_message(file, line, what)), file_(file), line_(line) {}

int64_t CsvTable::columns() const {
  if (!rows.empty()) return static_cast<int64_t>(rows.front().size());
  return static_cast<int64_t>(header.size());
}

CsvTable parse_csv(const std::string& text, const std::string& source, const CsvOptions& options) {
  CsvTable table;
  table.source = source;
  size_t pos = 0;
  const size_t n = text.size();
  if (n >= 3 && static_cast<unsigned char>(text[0]) == 0xEF && static_cast<unsigned char>(text[1]) == 0xBB &&
      static_cast<unsigned char>(text[2]) == 0xBF)
    pos = 3;
  int64_t line = 1;
  bool header_pending = options.header;
  int64_t expected = -1;
  int64_t expected_line = 0;

  std::vector<std::string> fields;
  std::string field;
  while (pos < n) {
    // ---- one record ----
    const int64_t record_line = line;
    fields.clear();
    bool record_has_text = false;  // anything but blanks
    bool end_of_record = false;
    while (!end_of_record) {
      field.clear();
      bool quoted = false;
      // leading blanks
      size_t start = pos;
      while (pos < n && is_blank(text[pos]) && !(options.whitespace == false && text[pos] == options.delimiter)) ++pos;
      if (options.whitespace) {
        // in whitespace mode leading blanks are separators, already skipped
      } else if (!options.trim) {
        field.append(text, start, pos - start);
      }
      if (pos < n && text[pos] == options.quote) {
        quoted = true;
        record_has_text = true;
        const int64_t quote_line = line;
        ++pos;
        for (;;) {
          if (pos >= n) throw DataError(source, quote_line, "unterminated quoted field");
          const char c = text[pos];
          if (c == options.quote) {
            if (pos + 1 < n && text[pos + 1] == options.quote) {
              field.push_back(c);
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (c == '\n' || c == '\r') {
            if (c == '\r' && pos + 1 < n && text[pos + 1] == '\n') ++pos;
            ++line;
            field.push_back('\n');
            ++pos;
            continue;
          }
          field.push_back(c);
          ++pos;
        }
        // only blanks may follow the closing quote
        while (pos < n && is_blank(text[pos]) && !(options.whitespace == false && text[pos] == options.delimiter))
          ++pos;
        if (pos < n && text[pos] != '\n' && text[pos] != '\r' &&
            !(options.whitespace ? is_blank(text[pos]) : text[pos] == options.delimiter))
          throw DataError(source, line, fmt::format("unexpected character '{}' after a closing quote", text[pos]));
      } else {
        const size_t b = pos;
        while (pos < n && text[pos] != '\n' && text[pos] != '\r' &&
               !(options.whitespace ? is_blank(text[pos]) : text[pos] == options.delimiter))
          ++pos;
        std::string raw = text.substr(b, pos - b);
        if (options.trim) raw = trimmed(raw);
        if (!raw.empty()) record_has_text = true;
        field += raw;
      }
      (void)quoted;
      fields.push_back(field);
      // separator or end of record
      if (options.whitespace) {
        while (pos < n && is_blank(text[pos])) ++pos;
        if (pos >= n || text[pos] == '\n' || text[pos] == '\r') end_of_record = true;
      } else if (pos < n && text[pos] == options.delimiter) {
        ++pos;
      } else {
        end_of_record = true;
      }
    }
    // consume the line end
    if (pos < n && text[pos] == '\r') {
      ++pos;
      if (pos < n && text[pos] == '\n') ++pos;
      ++line;
    } else if (pos < n && text[pos] == '\n') {
      ++pos;
      ++line;
    }
    if (options.whitespace && !fields.empty() && fields.back().empty() && fields.size() > 1) fields.pop_back();
    if (!record_has_text && (fields.size() <= 1 || options.whitespace)) continue;  // blank line
    if (header_pending) {
      table.header = fields;
      header_pending = false;
      expected = static_cast<int64_t>(fields.size());
      expected_line = record_line;
      continue;
    }
    if (expected < 0) {
      expected = static_cast<int64_t>(fields.size());
      expected_line = record_line;
    } else if (static_cast<int64_t>(fields.size()) != expected) {
      throw DataError(source, record_line,
                      fmt::format("ragged row: {} fields, but line {} has {}", fields.size(), expected_line, expected));
    }
    table.rows.push_back(fields);
    table.lines.push_back(record_line);
  }
  if (table.rows.empty())
    throw DataError(source, 0, options.header && !table.header.empty() ? "no data rows after the header"
                                                                        : "empty file (no data rows)");
  return table;
}

CsvTable parse_csv(std::istream& in, const std::string& source, const CsvOptions& options) {
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_csv(ss.str(), source, options);
}

CsvTable read_csv(const std::string& path, const CsvOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw DataError(path, 0, "is a directory, not a CSV file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, 0, "cannot open file (missing or unreadable)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw DataError(path, 0, "read error");
  return parse_csv(ss.str(), path, options);
}

}  // namespace adaswarm::data
