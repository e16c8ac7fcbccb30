// libFuzzer: the event parser (meals, insulin, basal, doses).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "medtwin/io/event.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  medtwin::io::ObservationLimits limits;
  limits.now.us_since_epoch = 1'800'000'000'000'000LL;
  auto e = medtwin::io::ParseEvent(j, "p1", limits);
  if (e.ok()) {
    // The stored form parses back to the same event.
    auto back = medtwin::io::ParseEvent(medtwin::io::EventToJson(*e), "", {});
    if (!back.ok() || medtwin::io::EventToJson(*back) != medtwin::io::EventToJson(*e)) {
      __builtin_trap();
    }
  }
  return 0;
}
