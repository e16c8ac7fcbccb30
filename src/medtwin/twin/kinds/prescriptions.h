// twin/kinds/prescriptions.h — the patient's genotype meeting their prescriptions, present for
// every patient: a dose or order of a drug the genotype argues against (CPIC guidance) raises a
// "pgx-<drug>" alert, and so does every drug already given or ordered when the genotype changes.
#pragma once

#include <memory>

#include "medtwin/twin/twin_kind.h"

namespace medtwin::twin {

[[nodiscard]] std::unique_ptr<TwinKind> MakePrescriptionChecks(const record::PatientRecord& record);

}  // namespace medtwin::twin
