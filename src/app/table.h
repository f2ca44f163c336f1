// A plain-text table for terminals: columns padded to their widest cell; optional colour of
// whole cells (ANSI) that does not disturb the padding.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace hdm {

enum class CellColor { kNone, kGreen, kRed, kYellow };

struct Cell {
  std::string text;
  CellColor color = CellColor::kNone;
};

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<Cell>>& rows, bool use_color);

// True when stdout is a terminal and NO_COLOR is unset.
bool StdoutWantsColor();

}  // namespace hdm
