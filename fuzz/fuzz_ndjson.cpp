// libFuzzer: the NDJSON reader and each line through the observation parser.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "medtwin/io/observation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  medtwin::io::ObservationLimits limits;
  limits.now.us_since_epoch = 1'800'000'000'000'000LL;
  std::size_t last = 0;
  for (const auto& line : medtwin::io::ReadNdjson(body)) {
    if (line.number <= last) __builtin_trap();  // line numbers only grow
    last = line.number;
    if (line.malformed != line.value.is_null()) __builtin_trap();
    if (!line.malformed) (void)medtwin::io::ParseObservation(line.value, "", limits);
  }
  return 0;
}
