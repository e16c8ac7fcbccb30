// tests/support/csv_rows.h — a CSV file as rows of column name → text, for tests that read
// what a command wrote (no quoting; CRLF line ends accepted).
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace medtwin::testing_support {

inline std::vector<std::map<std::string, std::string>> CsvRows(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  auto next_line = [&in, &line] {
    if (!std::getline(in, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  };
  std::vector<std::string> header;
  if (next_line()) {
    std::stringstream hs(line);
    for (std::string c; std::getline(hs, c, ',');) header.push_back(c);
  }
  std::vector<std::map<std::string, std::string>> rows;
  while (next_line()) {
    std::stringstream ls(line);
    std::map<std::string, std::string> row;
    std::size_t k = 0;
    for (std::string c; std::getline(ls, c, ',') && k < header.size(); ++k) row[header[k]] = c;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace medtwin::testing_support
