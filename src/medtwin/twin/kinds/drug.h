// twin/kinds/drug.h — the drug twins (records whose models include "vancomycin" or "warfarin";
// twin/drug_twin.h has the specs, fits and what-ifs): the doses and levels so far, the installed
// MAP fit with its ranked dose advice, refits handed off the shard thread whenever a new level
// makes the fit stale, what-ifs on the fitted posterior, and for warfarin the IWPC starting dose.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "medtwin/decide/regimen.h"
#include "medtwin/twin/drug_twin.h"
#include "medtwin/twin/twin_kind.h"

namespace medtwin::twin {

// What a client needs to pose a what-if, so that no clinical number lives in the client: the
// target, the regimens a what-if accepts, the regimen given now and when its next dose is due.
struct DrugWhatIfTerms {
  decide::Target target;
  std::string_view target_text;
  double dose_min_mg = 0, dose_max_mg = 0;
  double interval_min_h = 0, interval_max_h = 0;
  // The latest accepted order ("order"); else the last dose repeated at the interval of the
  // last two ("doses"); else the spec's default ("default").
  decide::Regimen current_regimen;
  std::string_view current_from;
  double next_dose_in_h = 0;  // hours from now, 0–72 (the what-if's start_in_h)
};

// The drug twin's part of the view (model_state.<model>).
struct DrugView final : KindView {
  std::string_view model;                 // "vancomycin", "warfarin"
  std::shared_ptr<const DrugFit> fit;     // the installed fit; null before the first
  std::optional<bool> refit_pending;      // with levels: a level newer than the fit shown
  std::optional<Result<IwpcStart>> iwpc;  // warfarin: the pharmacogenetic starting dose
  DrugWhatIfTerms what_if;
};

[[nodiscard]] bool WantsDrugTwin(const record::PatientRecord& record);
[[nodiscard]] std::unique_ptr<TwinKind> MakeDrugTwin(const record::PatientRecord& record);

}  // namespace medtwin::twin
