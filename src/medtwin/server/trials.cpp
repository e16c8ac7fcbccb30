#include "medtwin/server/trials.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "medtwin/core/time.h"
#include "medtwin/models/registry.h"
#include "medtwin/server/twin_json.h"
#include "medtwin/twin/trial.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

constexpr std::size_t kKeptJobs = 20;
constexpr std::size_t kMaxWaiting = 4;

// The settings with defaults filled in, each member type- and range-checked.
Result<json> TrialSettings(const json& body) {
  if (!body.is_object()) return InvalidArgument("body", "must be a JSON object");
  json s = {{"cohort", "adults"}, {"controller", "bb"},
            {"days", 1},          {"meals", "07:00=45,12:00=70,18:00=80"},
            {"seed", 1},          {"ideal_sensor", false},
            {"alerts", true}};
  for (const auto& [key, value] : body.items()) {
    if (!s.contains(key)) {
      return InvalidArgument(key,
                             "unknown setting (cohort, controller, days, meals, seed, "
                             "ideal_sensor, alerts)");
    }
    if (s[key].type() != value.type() &&
        !(s[key].is_number_integer() && value.is_number_unsigned())) {
      return InvalidArgument(key, std::string("must be ") + s[key].type_name());
    }
    s[key] = value;
  }
  if (!(s["days"] >= 1 && s["days"] <= 14)) return InvalidArgument("days", "1–14");
  if (!(s["seed"] >= 0)) return InvalidArgument("seed", "a non-negative integer");
  if (auto c = models::VirtualCohort(s["cohort"].get<std::string>()); !c.ok()) {
    return InvalidArgument("cohort", c.error().message);
  }
  if (auto k = decide::ParseControllerKind(s["controller"].get<std::string>()); !k.ok()) {
    return InvalidArgument("controller", k.error().message);
  }
  if (auto m = twin::ParseMealSpec(s["meals"].get<std::string>()); !m.ok()) {
    return InvalidArgument("meals", m.error().message);
  }
  return s;
}

}  // namespace

TrialRunner::TrialRunner(store::Store* store) : store_(store) {
  if (store_ != nullptr) {
    auto kept = store_->RecentTrials(kKeptJobs);
    if (kept.ok()) {
      for (const auto& body : *kept) {
        json job = json::parse(body, nullptr, false);
        if (!job.is_object() || !job.contains("id") || !job["id"].is_string()) continue;
        const std::string id = job["id"];
        if (id.starts_with("trial-")) {
          const std::uint64_t n = std::strtoull(id.c_str() + 6, nullptr, 10);
          next_id_ = std::max(next_id_, n + 1);
        }
        jobs_.push_back(std::move(job));  // newest first, as stored
      }
    } else {
      std::fprintf(stderr, "medtwin serve: trials not loaded: %s\n",
                   kept.error().ToString().c_str());
    }
  }
  worker_ = std::thread([this] { Work(); });
}

void TrialRunner::Save(const json& job) {
  if (store_ == nullptr) return;
  auto saved =
      store_->SaveTrial(job["id"].get<std::string>(), WallClockNow().us_since_epoch, job.dump());
  if (!saved.ok()) {
    std::fprintf(stderr, "medtwin serve: trial %s not saved: %s\n",
                 job["id"].get<std::string>().c_str(), saved.error().ToString().c_str());
  }
}

TrialRunner::~TrialRunner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

Result<json> TrialRunner::Submit(const json& body, const std::string& by) {
  MEDTWIN_TRY(json settings, TrialSettings(body));
  std::lock_guard lock(mu_);
  if (queue_.size() >= kMaxWaiting) {
    return Error{ErrorCode::kResourceExhausted, "trial",
                 "4 trials are already waiting; try again when one is done"};
  }
  const std::string id = "trial-" + std::to_string(next_id_++);
  json job = {{"id", id},
              {"status", "queued"},
              {"settings", settings},
              {"submitted_by", by},
              {"submitted_at", FormatRfc3339(WallClockNow())},
              {"progress", {{"done", 0}, {"total", 0}}}};
  jobs_.push_front(job);
  // Drop the oldest finished jobs beyond the kept number (waiting or running ones stay).
  for (auto it = jobs_.end(); jobs_.size() > kKeptJobs && it != jobs_.begin();) {
    --it;
    const json& status = (*it)["status"];
    if (status == "done" || status == "failed") it = jobs_.erase(it);
  }
  queue_.push_back(id);
  wake_.notify_all();
  return job;
}

json TrialRunner::List() const {
  std::lock_guard lock(mu_);
  json out = json::array();
  for (const auto& job : jobs_) {
    json brief = job;
    if (brief.contains("results")) {
      json& r = brief["results"];
      r.erase("patients");
      brief.erase("profile");
    }
    out.push_back(std::move(brief));
  }
  return out;
}

std::optional<json> TrialRunner::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& job : jobs_) {
    if (job["id"] == id) return job;
  }
  return std::nullopt;
}

void TrialRunner::Work() {
  for (;;) {
    std::string id;
    json settings;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.front();
      queue_.pop_front();
      for (auto& job : jobs_) {
        if (job["id"] == id) {
          job["status"] = "running";
          settings = job["settings"];
        }
      }
    }
    auto update = [&](const std::function<void(json&)>& change) {
      std::lock_guard lock(mu_);
      for (auto& job : jobs_) {
        if (job["id"] == id) change(job);
      }
    };
    // The last change of a job: made under the lock, saved outside it.
    auto finish = [&](const std::function<void(json&)>& change) {
      json final_job;
      update([&](json& job) {
        change(job);
        final_job = job;
      });
      if (!final_job.is_null()) Save(final_job);
    };
    // Validated on submission; checked again only as an invariant.
    auto model = models::FindModel("uva_padova");
    auto cohort = models::VirtualCohort(settings["cohort"].get<std::string>());
    auto kind = decide::ParseControllerKind(settings["controller"].get<std::string>());
    auto meals = twin::ParseMealSpec(settings["meals"].get<std::string>());
    if (!model.ok() || !cohort.ok() || !kind.ok() || !meals.ok()) {
      finish([](json& job) { job["status"] = "failed"; });
      continue;
    }
    twin::TrialOptions options;
    options.loop.days = settings["days"];
    options.loop.controller = *kind;
    options.loop.meals = *meals;
    options.loop.seed = settings["seed"];
    options.loop.cgm.noise = !settings["ideal_sensor"].get<bool>();
    options.loop.alerts = settings["alerts"];
    options.threads = 1;
    update([&](json& job) { job["progress"]["total"] = cohort->size(); });
    auto runs = twin::RunTrial(**model, *cohort, options, [&](int done, int total) {
      update([&](json& job) { job["progress"] = {{"done", done}, {"total", total}}; });
    });
    if (!runs.ok()) {
      finish([&](json& job) {
        job["status"] = "failed";
        job["error"] = runs.error().ToString();
      });
      continue;
    }
    const twin::GlucoseProfile agp = twin::AmbulatoryGlucoseProfile(*runs);
    json profile = {{"hour_of_day", agp.hour_of_day}};
    const char* names[] = {"p05", "p25", "p50", "p75", "p95"};
    for (std::size_t q = 0; q < agp.mg_dl.size(); ++q) profile[names[q]] = agp.mg_dl[q];
    json results = TrialSummaryToJson(*runs);
    finish([&](json& job) {
      job["status"] = "done";
      job["finished_at"] = FormatRfc3339(WallClockNow());
      job["results"] = std::move(results);
      job["profile"] = std::move(profile);
    });
  }
}

}  // namespace medtwin::server
