#include "medtwin/core/format.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace medtwin {

std::string FormatNumber(double value) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.10g", value);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string ToUpperAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string ToLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string FormatPrintf(const char* format, double value) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

double WithoutFloatNoise(double value) {
  if (!std::isfinite(value) || value == 0) return value;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", value);
  return std::strtod(buf, nullptr);
}

}  // namespace medtwin
