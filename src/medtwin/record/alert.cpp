#include "medtwin/record/alert.h"

#include <array>

namespace medtwin::record {
namespace {

constexpr std::array<std::string_view, 5> kSeverityNames = {"low", "low-medium", "medium", "high",
                                                            "critical"};
constexpr std::array<std::string_view, 3> kStatusNames = {"open", "acknowledged", "resolved"};

}  // namespace

std::string_view SeverityName(Severity s) {
  const int i = static_cast<int>(s) - 1;
  return i >= 0 && i < 5 ? kSeverityNames[static_cast<std::size_t>(i)] : kSeverityNames[0];
}

std::optional<Severity> ParseSeverity(std::string_view name) {
  for (std::size_t i = 0; i < kSeverityNames.size(); ++i) {
    if (kSeverityNames[i] == name) return static_cast<Severity>(i + 1);
  }
  return std::nullopt;
}

std::string_view AlertStatusName(AlertStatus s) {
  return kStatusNames[static_cast<std::size_t>(s)];
}

std::optional<AlertStatus> ParseAlertStatus(std::string_view name) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<AlertStatus>(i);
  }
  return std::nullopt;
}

}  // namespace medtwin::record
