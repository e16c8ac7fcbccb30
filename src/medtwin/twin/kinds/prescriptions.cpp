#include "medtwin/twin/kinds/prescriptions.h"

#include "medtwin/core/format.h"
#include "medtwin/twin/pharmacogenomics.h"

namespace medtwin::twin {
namespace {

class PrescriptionChecks final : public TwinKind {
 public:
  std::string_view name() const override { return "prescriptions"; }

  void OnEvent(const record::Event& e, TwinContext& ctx) override {
    if ((e.type == "dose" || e.type == "order") && !e.drug.empty() && ctx.can_raise()) {
      Check(ToLowerAscii(e.drug), e.time, ctx);
    }
  }

  void OnRecordChanged(const record::PatientRecord& before, TwinContext& ctx) override {
    if (before.genotype == ctx.record.genotype) return;
    const Instant now = WallClockNow();
    for (const auto& drug : ctx.drugs) Check(drug, now, ctx);
  }

 private:
  static void Check(const std::string& drug, Instant t, TwinContext& ctx) {
    if (ctx.record.genotype.empty()) return;
    const auto g = GuidanceFor(ctx.record, drug);
    if (!g || !g->Conflicts()) return;
    const bool severe =
        g->action == "avoid" || (g->action == "alternative" && g->strength == "strong");
    std::string genotype;
    for (const auto& x : g->genotype) genotype += (genotype.empty() ? "" : "; ") + x;
    ctx.Raise("pgx-" + g->drug, severe ? Severity::kHigh : Severity::kMedium, t,
              g->drug + " with " + genotype + ": " + g->recommendation + " (" + g->source + ")");
  }
};

}  // namespace

std::unique_ptr<TwinKind> MakePrescriptionChecks(const record::PatientRecord&) {
  return std::make_unique<PrescriptionChecks>();
}

}  // namespace medtwin::twin
