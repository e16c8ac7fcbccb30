// libFuzzer: the observation parser (JSON text → observation or a field-named error).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "medtwin/io/observation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  medtwin::io::ObservationLimits limits;
  limits.now.us_since_epoch = 1'800'000'000'000'000LL;
  auto o = medtwin::io::ParseObservation(j, "", limits);
  if (!o.ok() && o.error().field.empty()) __builtin_trap();  // every error names a field
  if (o.ok()) (void)medtwin::io::ObservationToJson(*o);
  return 0;
}
