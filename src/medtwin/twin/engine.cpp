#include "medtwin/twin/engine.h"

#include <algorithm>

namespace medtwin::twin {
namespace {

std::atomic<std::uint64_t> g_alert_ids{0};
std::uint64_t NextAlertId() { return ++g_alert_ids; }

}  // namespace

TwinEngine::TwinEngine(int shards, EventSink sink,
                       std::function<bool(const std::string&)> listening, int fit_threads)
    : sink_(std::move(sink)), listening_(std::move(listening)) {
  if (fit_threads <= 0) {
    fit_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
  }
  fits_ = std::make_unique<WorkerPool>(fit_threads);
  const int n = std::max(1, shards);
  for (int i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
  for (auto& s : shards_) {
    Shard* shard = s.get();
    shard->thread = std::thread([this, shard] { Run(*shard); });
  }
}

TwinEngine::~TwinEngine() {
  // No refit starts after this: a shard task that read `stopping_` false has finished once
  // every shard answered. The pool then finishes its running fits (their installs queue on the
  // shards, which drain before they stop) and drops the rest.
  stopping_ = true;
  for (auto& s : shards_) Ask<int>(*s, [] { return 0; });
  fits_.reset();
  for (auto& s : shards_) {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->stop = true;
    }
    s->cv.notify_one();
  }
  for (auto& s : shards_) s->thread.join();
}

TwinEngine::Shard& TwinEngine::ShardOf(const std::string& patient) {
  return *shards_[std::hash<std::string>{}(patient) % shards_.size()];
}

void TwinEngine::Post(Shard& s, std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.queue.push_back(std::move(task));
    ++s.depth;
  }
  s.cv.notify_one();
}

void TwinEngine::Run(Shard& s) {
  // Alerts left unacknowledged are escalated on the wall clock too, not only when the patient's
  // next observation arrives (a monitor that falls silent is when it matters).
  constexpr auto kSweepEvery = std::chrono::seconds(15);
  auto next_sweep = std::chrono::steady_clock::now() + kSweepEvery;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(s.mu);
      s.cv.wait_until(lock, next_sweep, [&] { return s.stop || !s.queue.empty(); });
      if (s.stop && s.queue.empty()) return;  // stop requested and nothing left
      if (!s.queue.empty()) {
        task = std::move(s.queue.front());
        s.queue.pop_front();
        --s.depth;  // counts waiting tasks, not the one running
      }
    }
    if (task) task();
    if (std::chrono::steady_clock::now() >= next_sweep) {
      EscalateOverdue(s, WallClockNow());
      next_sweep = std::chrono::steady_clock::now() + kSweepEvery;
    }
  }
}

void TwinEngine::EscalateOverdue(Shard& s, Instant now) {
  for (auto& [id, twin] : s.twins) {
    for (const auto& a : twin.EscalateOverdue(now)) {
      if (sink_) sink_(id, a);
    }
  }
}

template <typename T>
T TwinEngine::Ask(Shard& s, std::function<T()> question) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  Post(s, [promise, question = std::move(question)] { promise->set_value(question()); });
  return future.get();
}

void TwinEngine::UpsertPatient(record::PatientRecord record) {
  Shard& s = ShardOf(record.id);
  Post(s, [this, &s, record = std::move(record)]() mutable {
    auto it = s.twins.find(record.id);
    if (it == s.twins.end()) {
      const std::string id = record.id;
      s.twins.emplace(id, LiveTwin(std::move(record)));
      ++twin_count_;
    } else {
      // A new genotype may argue against drugs already given or ordered.
      for (const auto& a : it->second.SetRecord(std::move(record), &NextAlertId)) {
        if (sink_) sink_(a.patient, a);
      }
    }
  });
}

void TwinEngine::Apply(std::vector<record::Observation> batch, bool publish,
                       bool publish_observations) {
  // One task per shard, keeping arrival order within each.
  std::vector<std::vector<record::Observation>> per_shard(shards_.size());
  for (auto& o : batch) {
    per_shard[std::hash<std::string>{}(o.patient) % shards_.size()].push_back(std::move(o));
  }
  for (std::size_t k = 0; k < shards_.size(); ++k) {
    if (per_shard[k].empty()) continue;
    Shard& s = *shards_[k];
    Post(s, [this, &s, items = std::move(per_shard[k]), publish, publish_observations] {
      for (const auto& o : items) {
        auto it = s.twins.find(o.patient);
        if (it == s.twins.end()) continue;
        const TwinUpdate u = it->second.Apply(o, &NextAlertId, publish);
        if (u.fit_needed) StartFit(s, o.patient, it->second, /*announce=*/true);
        if (!publish || !sink_) continue;
        // Alerts always go out (they are counted); observation and twin events only when
        // someone listens.
        if (!listening_ || listening_(o.patient)) {
          if (publish_observations) sink_(o.patient, o);
          if (u.news2_changed) {
            sink_(o.patient, News2Changed{it->second.News2(), it->second.record().spo2_scale});
          }
        }
        for (const auto& a : u.alerts) sink_(o.patient, a);
        if (u.command) sink_(o.patient, *u.command);
      }
    });
  }
}

void TwinEngine::ApplyEvents(std::vector<record::Event> batch, bool publish) {
  std::vector<std::vector<record::Event>> per_shard(shards_.size());
  for (auto& e : batch) {
    per_shard[std::hash<std::string>{}(e.patient) % shards_.size()].push_back(std::move(e));
  }
  for (std::size_t k = 0; k < shards_.size(); ++k) {
    if (per_shard[k].empty()) continue;
    Shard& s = *shards_[k];
    Post(s, [this, &s, items = std::move(per_shard[k]), publish] {
      for (const auto& e : items) {
        auto it = s.twins.find(e.patient);
        if (it == s.twins.end()) continue;
        const auto alerts = it->second.ApplyEvent(e, &NextAlertId);
        if (publish && sink_ && (!listening_ || listening_(e.patient))) sink_(e.patient, e);
        if (publish && sink_) {
          for (const auto& a : alerts) sink_(e.patient, a);
        }
      }
    });
  }
}

void TwinEngine::StartFit(Shard& s, const std::string& patient, LiveTwin& twin, bool announce) {
  if (stopping_) return;
  auto job = twin.TakeOffShardJob(announce);
  if (!job) return;
  {
    std::lock_guard<std::mutex> lock(fit_mu_);
    ++fits_in_flight_;
  }
  fits_->Submit([this, &s, patient, job = std::move(*job)] {
    auto install = job.job.run();
    Post(s, [this, &s, patient, kind = job.kind, install = std::move(install)] {
      FinishFit(s, patient, kind, install);
    });
  });
}

void TwinEngine::FinishFit(Shard& s, const std::string& patient, std::size_t kind,
                           const OffShardJob::Install& install) {
  auto it = s.twins.find(patient);
  bool pending = false;
  if (it != s.twins.end()) {
    if (auto advice = it->second.InstallOffShard(kind, install); advice && sink_) {
      advice->patient = patient;
      sink_(patient, *advice);
    }
    // Inputs that arrived while it ran: fit again (announced, as they were live).
    StartFit(s, patient, it->second, /*announce=*/true);
    pending = it->second.OffShardPending();
  }
  if (!pending) {
    if (auto w = s.fit_waiters.find(patient); w != s.fit_waiters.end()) {
      for (auto& p : w->second) p->set_value();
      s.fit_waiters.erase(w);
    }
  }
  {
    std::lock_guard<std::mutex> lock(fit_mu_);
    --fits_in_flight_;
  }
  fit_cv_.notify_all();
}

bool TwinEngine::KickFit(Shard& s, const std::string& patient) {
  auto it = s.twins.find(patient);
  if (it == s.twins.end()) return false;
  // A refit deferred on replay starts now.
  StartFit(s, patient, it->second, /*announce=*/false);
  return it->second.OffShardPending();
}

bool TwinEngine::AwaitDrugFit(const std::string& patient, std::chrono::milliseconds max_wait) {
  Shard& s = ShardOf(patient);
  auto done = Ask<std::optional<std::shared_future<void>>>(
      s, [this, &s, &patient]() -> std::optional<std::shared_future<void>> {
        if (!KickFit(s, patient)) return std::nullopt;
        auto p = std::make_shared<std::promise<void>>();
        s.fit_waiters[patient].push_back(p);
        return p->get_future().share();
      });
  return !done || done->wait_for(max_wait) == std::future_status::ready;
}

std::optional<TwinView> TwinEngine::View(const std::string& patient, bool forecast_bands) {
  Shard& s = ShardOf(patient);
  return Ask<std::optional<TwinView>>(
      s, [this, &s, patient, forecast_bands]() -> std::optional<TwinView> {
        auto it = s.twins.find(patient);
        if (it == s.twins.end()) return std::nullopt;
        const bool refitting = KickFit(s, patient);
        TwinView view = it->second.View(forecast_bands);
        view.refitting = refitting;
        return view;
      });
}

std::optional<TwinEngine::CurrentAdvice> TwinEngine::Advice(const std::string& patient) {
  Shard& s = ShardOf(patient);
  return Ask<std::optional<CurrentAdvice>>(
      s, [this, &s, &patient]() -> std::optional<CurrentAdvice> {
        auto it = s.twins.find(patient);
        if (it == s.twins.end()) return std::nullopt;
        const bool refitting = KickFit(s, patient);
        return CurrentAdvice{it->second.Recommendation(), refitting};
      });
}

Result<std::unique_ptr<WhatIfOutcome>> TwinEngine::WhatIf(const std::string& patient,
                                                          const WhatIfPlan& plan) {
  Shard& s = ShardOf(patient);
  const Instant now = WallClockNow();
  // Prepared on the shard from a copy of the twin's state (after starting any pending refit);
  // run here, on the caller's thread, so the shard keeps applying observations.
  MEDTWIN_TRY(
      PreparedWhatIf prepared,
      Ask<Result<PreparedWhatIf>>(s, [this, &s, &patient, &plan, now]() -> Result<PreparedWhatIf> {
        auto it = s.twins.find(patient);
        if (it == s.twins.end()) return NotFound("patient", "no patient '" + patient + "'");
        KickFit(s, patient);
        return it->second.PrepareWhatIf(plan, now);
      }));
  MEDTWIN_TRY(std::unique_ptr<WhatIfOutcome> out, prepared.task());
  out->refitting = prepared.refitting;
  return out;
}

std::vector<record::Alert> TwinEngine::Alerts(const AlertFilter& filter) {
  std::vector<record::Alert> out;
  for (auto& sp : shards_) {
    Shard& s = *sp;
    if (!filter.patient.empty() && &s != &ShardOf(filter.patient)) continue;
    auto part = Ask<std::vector<record::Alert>>(s, [&s, &filter] {
      std::vector<record::Alert> list;
      for (const auto& [id, twin] : s.twins) {
        if (!filter.patient.empty() && id != filter.patient) continue;
        for (const auto& a : twin.alerts()) {
          if (filter.status && a.status != *filter.status) continue;
          if (filter.min_severity && a.severity < *filter.min_severity) continue;
          list.push_back(a);
        }
      }
      return list;
    });
    out.insert(out.end(), std::make_move_iterator(part.begin()),
               std::make_move_iterator(part.end()));
  }
  std::sort(out.begin(), out.end(), [](const record::Alert& a, const record::Alert& b) {
    return a.updated_at > b.updated_at;
  });
  return out;
}

std::optional<record::Alert> TwinEngine::FindAlert(std::uint64_t alert_id) {
  for (auto& sp : shards_) {
    Shard& s = *sp;
    auto found =
        Ask<std::optional<record::Alert>>(s, [&s, alert_id]() -> std::optional<record::Alert> {
          for (const auto& [id, twin] : s.twins) {
            for (const auto& a : twin.alerts()) {
              if (a.id == alert_id) return a;
            }
          }
          return std::nullopt;
        });
    if (found) return found;
  }
  return std::nullopt;
}

Result<record::Alert> TwinEngine::Acknowledge(std::uint64_t alert_id, const std::string& by,
                                              const std::string& patient) {
  for (auto& sp : shards_) {
    Shard& s = *sp;
    if (!patient.empty() && &s != &ShardOf(patient)) continue;
    auto found = Ask<std::optional<record::Alert>>(
        s, [this, &s, alert_id, &by, &patient]() -> std::optional<record::Alert> {
          for (auto& [id, twin] : s.twins) {
            if (!patient.empty() && id != patient) continue;
            const record::Alert* a = twin.Acknowledge(alert_id, by);
            if (a == nullptr) continue;
            if (sink_) sink_(a->patient, *a);
            return *a;
          }
          return std::nullopt;
        });
    if (found) return *found;
  }
  return NotFound("alert", "no alert " + std::to_string(alert_id));
}

void TwinEngine::Drain() {
  for (auto& s : shards_) Ask<int>(*s, [] { return 0; });
  // Installs run on the shards before the count drops, and may start the next refit first:
  // zero means every refit is installed.
  std::unique_lock<std::mutex> lock(fit_mu_);
  fit_cv_.wait(lock, [this] { return fits_in_flight_ == 0; });
}

std::size_t TwinEngine::DrugFitsInFlight() const {
  std::lock_guard<std::mutex> lock(fit_mu_);
  return fits_in_flight_;
}

std::size_t TwinEngine::QueueDepth() const {
  std::size_t d = 0;
  for (const auto& s : shards_) d += s->depth.load();
  return d;
}

std::size_t TwinEngine::TwinCount() const { return twin_count_.load(); }

std::size_t TwinEngine::ApproxTwinBytes() {
  std::size_t total = 0;
  for (auto& sp : shards_) {
    Shard& s = *sp;
    total += Ask<std::size_t>(s, [&s] {
      std::size_t b = 0;
      for (const auto& [id, twin] : s.twins) b += twin.ApproxBytes() + id.size() + 64;
      return b;
    });
  }
  return total;
}

}  // namespace medtwin::twin
