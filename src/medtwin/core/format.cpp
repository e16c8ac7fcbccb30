#include "medtwin/core/format.h"

#include <cstdio>

namespace medtwin {

std::string FormatNumber(double value) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.10g", value);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace medtwin
