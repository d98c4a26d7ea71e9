// QueryTable: the aligned tables `seisvault query` prints for a person.
// Rows are collected, then printed with every column as wide as its widest
// cell, two spaces apart; numeric columns are right-aligned.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace seisvault::cli {

class QueryTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string header;
    Align align = Align::kLeft;
  };

  explicit QueryTable(std::vector<Column> columns);

  // A row with one cell per column (missing cells are empty, extra ones dropped).
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  // The header line, then the rows. Trailing blanks are never printed.
  void print(std::FILE* out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace seisvault::cli
