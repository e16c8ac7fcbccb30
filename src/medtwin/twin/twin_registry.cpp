// Every kind of twin, in the order a twin consults them: the ward's rules and NEWS2 first (the
// bedside alerts), then the prescription checks, the drug twins and the glucose twin. A new
// kind adds its row here and lives in its own files under kinds/ (docs/twins.md).
#include "medtwin/twin/kinds/drug.h"
#include "medtwin/twin/kinds/glucose.h"
#include "medtwin/twin/kinds/prescriptions.h"
#include "medtwin/twin/kinds/ward.h"
#include "medtwin/twin/twin_kind.h"

namespace medtwin::twin {
namespace {

bool Always(const record::PatientRecord&) { return true; }

constexpr TwinKindEntry kKinds[] = {
    {"ward", Always, MakeWardTwin, {}},
    {"prescriptions", Always, MakePrescriptionChecks, {}},
    {"drug", WantsDrugTwin, MakeDrugTwin, {"vancomycin", "warfarin"}},
    {"glucose", WantsGlucoseTwin, MakeGlucoseTwin, {"glucose"}},
};

}  // namespace

std::span<const TwinKindEntry> TwinKinds() { return kKinds; }

const TwinKindEntry* KindAnsweringWhatIf(std::string_view model) {
  for (const auto& entry : kKinds) {
    for (auto name : entry.what_if_models) {
      if (!name.empty() && name == model) return &entry;
    }
  }
  return nullptr;
}

std::string WhatIfModelList() {
  std::string known;
  for (const auto& entry : kKinds) {
    for (auto name : entry.what_if_models) {
      if (!name.empty()) known += (known.empty() ? "" : ", ") + std::string(name);
    }
  }
  return known;
}

}  // namespace medtwin::twin
