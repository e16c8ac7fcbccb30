#include "medtwin/record/patient.h"

#include "medtwin/core/time.h"

namespace medtwin::record {

const AlarmLimit* AlarmLimits::For(std::string_view kind) const {
  for (const auto& l : limits) {
    if (l.kind == kind) return &l;
  }
  return nullptr;
}

bool ResearchConsentAt(const PatientRecord& p, const std::string& at_rfc3339) {
  if (!p.consent.research) return false;
  if (p.consent.withdrawn_at.empty()) return true;
  auto withdrawn = ParseRfc3339(p.consent.withdrawn_at);
  auto at = ParseRfc3339(at_rfc3339);
  if (!withdrawn.ok() || !at.ok()) return false;  // unreadable: treat as withdrawn
  // A withdrawal takes effect when it is recorded, whatever date it names: a future-dated one
  // does not keep the patient in exports until then.
  return false;
}

}  // namespace medtwin::record
