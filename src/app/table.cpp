#include "app/table.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace hdm {
namespace {

const char* Ansi(CellColor c) {
  switch (c) {
    case CellColor::kGreen:
      return "\033[32m";
    case CellColor::kRed:
      return "\033[31m";
    case CellColor::kYellow:
      return "\033[33m";
    case CellColor::kNone:
      break;
  }
  return "";
}

}  // namespace

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<Cell>>& rows, bool use_color) {
  std::vector<size_t> width(header.size(), 0);
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].text.size());
    }
  }
  auto pad = [&](size_t i, size_t len) {
    if (i + 1 < width.size()) out << std::string(width[i] - len + 2, ' ');
  };
  for (size_t i = 0; i < header.size(); ++i) {
    out << header[i];
    pad(i, header[i].size());
  }
  out << '\n';
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      const bool colored = use_color && row[i].color != CellColor::kNone;
      if (colored) out << Ansi(row[i].color);
      out << row[i].text;
      if (colored) out << "\033[0m";
      pad(i, row[i].text.size());
    }
    out << '\n';
  }
}

bool StdoutWantsColor() { return isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr; }

}  // namespace hdm
