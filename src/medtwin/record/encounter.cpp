#include "medtwin/record/encounter.h"

#include <algorithm>

namespace medtwin::record {
namespace {

// Where a stay in progress has the patient lying now (a Location the server knows), or null.
const EncounterLocation* InPlace(const Encounter& x) {
  if (x.status != "in-progress") return nullptr;
  for (const auto& l : x.locations) {
    if (l.occupied() && !l.location_id.empty()) return &l;
  }
  return nullptr;
}

}  // namespace

Status PlaceEncounter(std::vector<Encounter>& encounters, const Encounter& e,
                      const std::string& patient, bool* created) {
  if (InPlace(e) != nullptr) {
    for (const auto& other : encounters) {
      const EncounterLocation* there = other.id == e.id ? nullptr : InPlace(other);
      if (there == nullptr) continue;
      return Error{ErrorCode::kAlreadyExists, "Encounter.location",
                   "Patient/" + patient + " is in Location/" + there->location_id + " (Encounter/" +
                       other.id + "): transfer that stay or finish it first"};
    }
  }
  auto it = std::find_if(encounters.begin(), encounters.end(),
                         [&](const Encounter& x) { return x.id == e.id; });
  const bool is_new = it == encounters.end();
  if (created != nullptr) *created = is_new;
  if (is_new) {
    encounters.push_back(e);
    if (encounters.size() > 100) encounters.erase(encounters.begin());
  } else {
    *it = e;
  }
  return Ok{};
}

}  // namespace medtwin::record
