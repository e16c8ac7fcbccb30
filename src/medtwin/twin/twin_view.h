// twin/twin_view.h — the twin as the API shows it, as typed values: the record, the newest value
// of every code, NEWS2, the open alerts, each kind's part (its model state, a KindView), every
// kind's advice and the accepted orders. A snapshot: it shares nothing with the live twin, so
// the server formats it (server/twin_json.h) on any thread.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "medtwin/monitor/news2.h"
#include "medtwin/record/advice.h"
#include "medtwin/record/alert.h"
#include "medtwin/record/event.h"
#include "medtwin/record/patient.h"
#include "medtwin/twin/twin_kind.h"

namespace medtwin::twin {

// NEWS2 from the newest vital signs, with the SpO2 scale it was scored on.
struct News2View {
  monitor::News2Score score;
  int spo2_scale = 1;
};

struct TwinView {
  record::PatientRecord record;
  LatestValues latest;
  News2View news2;
  std::vector<record::Alert> open_alerts;  // raised, escalated or acknowledged; not resolved
  struct Part {
    std::string_view kind;  // the kind's registry name: "drug", "glucose", …
    std::shared_ptr<const KindView> view;
  };
  std::vector<Part> parts;  // in registry order; kinds that show nothing are left out
  std::vector<record::Recommendation> recommendations;
  std::vector<record::Event> orders;  // accepted advice, oldest first (the last 10)
  bool refitting = false;             // a refit is pending (the engine sets it)

  // The part of kind `kind` as its own view type, or null.
  template <typename View>
  [[nodiscard]] const View* Find(std::string_view kind) const {
    for (const auto& p : parts) {
      if (p.kind == kind) return dynamic_cast<const View*>(p.view.get());
    }
    return nullptr;
  }
};

}  // namespace medtwin::twin
