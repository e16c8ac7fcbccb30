// twin/kinds/drug.h — the drug twins (records whose models include "vancomycin" or "warfarin";
// twin/drug_twin.h has the specs, fits and what-ifs): the doses and levels so far, the installed
// MAP fit with its ranked dose advice, refits handed off the shard thread whenever a new level
// makes the fit stale, what-ifs on the fitted posterior, and for warfarin the IWPC starting dose.
#pragma once

#include <memory>

#include "medtwin/twin/twin_kind.h"

namespace medtwin::twin {

[[nodiscard]] bool WantsDrugTwin(const record::PatientRecord& record);
[[nodiscard]] std::unique_ptr<TwinKind> MakeDrugTwin(const record::PatientRecord& record);

}  // namespace medtwin::twin
