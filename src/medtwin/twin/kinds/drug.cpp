#include "medtwin/twin/kinds/drug.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace medtwin::twin {
namespace {

class DrugTwin final : public TwinKind {
 public:
  std::string_view name() const override { return "drug"; }

  // A level of the drug refits the twin and renews its advice (when a population model is
  // known: the record's or the spec's default).
  void Observe(const record::Observation& o, TwinContext& ctx) override {
    const DrugTwinSpec* spec = DrugSpecFor(ctx.record);
    if (spec == nullptr || o.code != spec->level_code) return;
    if (ctx.record.population_model.empty() && spec->default_population_model.empty()) return;
    levels_.emplace_back(o.time, o.value);
    stale_ = true;
    ctx.update.fit_needed = ctx.live;
  }

  void OnEvent(const record::Event& e, TwinContext& ctx) override {
    const DrugTwinSpec* spec = DrugSpecFor(ctx.record);
    if (spec == nullptr || e.drug != spec->drug) return;
    if (e.type == "order") {
      if (!last_order_ || last_order_->time <= e.time) last_order_ = e;
      return;
    }
    if (e.type != "dose") return;
    doses_.push_back(e);
    std::stable_sort(
        doses_.begin(), doses_.end(),
        [](const record::Event& a, const record::Event& b) { return a.time < b.time; });
  }

  std::shared_ptr<const KindView> View(const TwinFacts& ctx, bool) override {
    const DrugTwinSpec* spec = DrugSpecFor(ctx.record);
    if (spec == nullptr) return nullptr;
    auto view = std::make_shared<DrugView>();
    view->model = spec->model;
    // The fit once there are levels; the terms of a what-if always, so a client can pose one
    // before the first level.
    view->fit = fit_;
    if (!levels_.empty()) view->refit_pending = OffShardPending(ctx);
    // Before (and beside) the INR-driven fit: the IWPC pharmacogenetic starting dose.
    if (spec->model == "warfarin") {
      view->iwpc = IwpcStartingDose(ctx.record, ctx.drugs, WallClockNow());
    }
    view->what_if = WhatIfTerms(*spec, WallClockNow());
    return view;
  }

  std::optional<record::Recommendation> Advice() const override {
    return fit_ ? fit_->recommendation : std::nullopt;
  }

  // Only its own drug: a what-if for another drug is "no such twin", whatever this one is doing.
  bool AnswersWhatIf(const TwinFacts& ctx, std::string_view model) const override {
    const DrugTwinSpec* spec = DrugSpecFor(ctx.record);
    return spec != nullptr && spec->model == model;
  }

  Result<WhatIfTask> PrepareWhatIf(const TwinFacts& ctx, const WhatIfPlan& asked,
                                   Instant now) override {
    const std::string& model = asked.model;
    const auto* plan = dynamic_cast<const DrugWhatIfPlan*>(&asked);
    if (plan == nullptr) return InvalidArgument("model", "not a drug what-if");
    const DrugTwinSpec* spec = DrugSpecFor(ctx.record);
    if (spec == nullptr || spec->model != model) {
      return InvalidArgument("model", "this patient has no " + model + " twin");
    }
    if (!fit_ || !fit_->model) {
      return InvalidArgument("model", "the " + model + " twin has no fit yet (doses and a level)");
    }
    // From the last complete fit, on the caller's thread.
    return WhatIfTask([spec, fit = fit_, history = DrugHistory{doses_, levels_}, now,
                       plan = *plan] { return DrugWhatIf(*spec, *fit, history, now, plan); });
  }

  std::optional<OffShardJob> TakeOffShardJob(const TwinFacts& ctx, bool announce) override {
    if (fitting_) return std::nullopt;
    const bool due = FitDue(ctx);
    stale_ = false;  // not due: nothing to fit until the next level
    if (!due) return std::nullopt;
    fitting_ = true;
    DrugFitJob job{ctx.record, DrugSpecFor(ctx.record), doses_, levels_, announce};
    return OffShardJob{[job = std::move(job)]() -> OffShardJob::Install {
      auto fit = std::make_shared<const DrugFit>(FitDrugTwin(job));
      return [fit](TwinKind& kind) { return static_cast<DrugTwin&>(kind).Install(fit); };
    }};
  }

  bool OffShardPending(const TwinFacts& ctx) const override { return fitting_ || FitDue(ctx); }

  std::size_t ApproxBytes() const override {
    return sizeof(*this) + doses_.size() * sizeof(record::Event) + levels_.size() * 16;
  }

 private:
  // A new level (so there are levels), doses, and a drug-twin model on the record.
  bool FitDue(const TwinFacts& ctx) const {
    return stale_ && !doses_.empty() && DrugSpecFor(ctx.record) != nullptr;
  }

  // The what-if's terms (DrugWhatIfTerms): the current regimen is the latest accepted order;
  // else the last dose repeated at the interval of the last two; else the spec's default.
  DrugWhatIfTerms WhatIfTerms(const DrugTwinSpec& spec, Instant now) const {
    DrugWhatIfTerms terms;
    terms.target = spec.target;
    terms.target_text = spec.target_text;
    terms.dose_min_mg = kWhatIfMinDoseMg;
    terms.dose_max_mg = spec.what_if_max_dose_mg;
    terms.interval_min_h = kWhatIfMinIntervalH;
    terms.interval_max_h = kWhatIfMaxIntervalH;
    decide::Regimen current = spec.default_regimen;
    terms.current_from = "default";
    if (last_order_) {
      current = {last_order_->amount, last_order_->interval_h, last_order_->duration_h};
      terms.current_from = "order";
    } else if (!doses_.empty()) {
      const record::Event& last = doses_.back();
      current.dose_mg = last.amount;
      current.infusion_h = last.duration_h;
      if (doses_.size() > 1) {
        const double h = ElapsedHours(doses_[doses_.size() - 2].time, last.time);
        if (h > 0) current.interval_h = std::round(h * 10) / 10;
      }
      terms.current_from = "doses";
    }
    terms.current_regimen = current;
    if (!doses_.empty()) {
      const double h = ElapsedHours(now, doses_.back().time) + current.interval_h;
      terms.next_dose_in_h = std::clamp(std::round(h * 10) / 10, 0.0, 72.0);
    }
    return terms;
  }

  // Puts a finished fit in place: its advice when it is to be announced and has any.
  std::optional<record::Recommendation> Install(std::shared_ptr<const DrugFit> fit) {
    fitting_ = false;
    const bool announce = fit->announce;
    if (!fit->model && fit_ && fit_->model) {
      // A failed refit reports its error but keeps the last good posterior and advice.
      auto kept = std::make_shared<DrugFit>(*fit_);
      kept->summary = fit->summary;
      kept->error = fit->error;
      kept->announce = false;
      fit = std::move(kept);
    }
    fit_ = std::move(fit);
    return announce ? fit_->recommendation : std::nullopt;
  }

  std::vector<record::Event> doses_;  // by time
  std::vector<std::pair<Instant, double>> levels_;
  std::shared_ptr<const DrugFit> fit_;       // null until the first fit
  std::optional<record::Event> last_order_;  // the latest accepted order of the drug
  bool stale_ = false;                       // levels newer than the last fit taken
  bool fitting_ = false;                     // a fit taken and not installed yet
};

}  // namespace

bool WantsDrugTwin(const record::PatientRecord& record) { return DrugSpecFor(record) != nullptr; }

std::unique_ptr<TwinKind> MakeDrugTwin(const record::PatientRecord&) {
  return std::make_unique<DrugTwin>();
}

}  // namespace medtwin::twin
