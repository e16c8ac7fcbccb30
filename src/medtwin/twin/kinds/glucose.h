// twin/kinds/glucose.h — the glucose twin (records whose models include "glucose"): the
// UVA/Padova model (Dalla Man 2007/2014) tracked by a GlucoseFilter from the first CGM reading
// or glucose event, the predictive hypoglycemia alert (monitor::HypoglycemiaAlert, the rule the
// trials score), the closed loop (the record's controller commanding the pump on each CGM
// reading) and what-ifs on meals, boluses and basal rates.
#pragma once

#include <memory>

#include "medtwin/twin/twin_kind.h"

namespace medtwin::twin {

[[nodiscard]] bool WantsGlucoseTwin(const record::PatientRecord& record);
[[nodiscard]] std::unique_ptr<TwinKind> MakeGlucoseTwin(const record::PatientRecord& record);

}  // namespace medtwin::twin
