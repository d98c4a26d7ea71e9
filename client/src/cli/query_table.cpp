#include "query_table.h"

#include <algorithm>

#include <fmt/format.h>

namespace seisvault::cli {

QueryTable::QueryTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

void QueryTable::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void QueryTable::print(std::FILE* out) const {
  std::vector<size_t> width(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    width[c] = columns_[c].header.size();
    for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
  }
  const auto print_line = [&](const auto& cell_of) {
    std::string line;
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cell_of(c);
      if (c > 0) line += "  ";
      const std::string pad(width[c] - cell.size(), ' ');
      line += columns_[c].align == Align::kRight ? pad + cell : cell + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print(out, "{}\n", line);
  };
  print_line([&](size_t c) -> const std::string& { return columns_[c].header; });
  for (const auto& row : rows_) print_line([&](size_t c) -> const std::string& { return row[c]; });
}

}  // namespace seisvault::cli
