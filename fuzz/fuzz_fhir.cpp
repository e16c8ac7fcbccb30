// libFuzzer: FHIR R4 resources in (Observation, Patient, MedicationAdministration).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "medtwin/io/fhir.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  medtwin::io::ObservationLimits limits;
  limits.now.us_since_epoch = 1'800'000'000'000'000LL;
  if (auto o = medtwin::io::FromFhirObservation(j, limits); o.ok()) {
    for (const auto& one : *o) (void)medtwin::io::ToFhirObservation(one, "x");
  }
  if (auto p = medtwin::io::FromFhirPatient(j); p.ok()) (void)medtwin::io::ToFhirPatient(*p);
  if (auto d = medtwin::io::FromFhirMedicationAdministration(j, limits); d.ok() && d->has_value()) {
    (void)medtwin::io::ToFhirMedicationAdministration(**d, "x");
  }
  return 0;
}
