// The alert lane (issue 15, item 11): the twins take a reading while the store commits it, so
// an alert goes out before the commit ends; the reply still waits for the commit, the live
// stream shows each stored reading once, and a resent reading changes nothing. Checked with a
// store whose commit is held until the test lets it go.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "medtwin/server/http_server.h"
#include "medtwin/server/service.h"
#include "medtwin/store/store.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

// A real SQLite store whose observation commits wait at a gate the test opens.
class GatedStore final : public store::Store {
 public:
  explicit GatedStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  std::string_view Kind() const override { return inner_->Kind(); }
  Status UpsertPatient(const store::PatientRow& row) override { return inner_->UpsertPatient(row); }
  Result<std::vector<store::PatientRow>> LoadPatients() override { return inner_->LoadPatients(); }
  Result<std::vector<store::PatientRow>> PatientVersions(const std::string& id) override {
    return inner_->PatientVersions(id);
  }
  Result<std::size_t> AppendObservations(std::span<const record::Observation> items,
                                         std::vector<bool>* inserted) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
    lock.unlock();
    return inner_->AppendObservations(items, inserted);
  }
  Result<store::ObservationPage> QueryObservations(const store::ObservationQuery& q) override {
    return inner_->QueryObservations(q);
  }
  Status ForEachObservation(const std::function<void(const record::Observation&)>& v) override {
    return inner_->ForEachObservation(v);
  }
  Result<std::size_t> CountObservations() override { return inner_->CountObservations(); }
  Result<std::size_t> AppendEvents(std::span<const record::Event> items,
                                   std::vector<bool>* inserted) override {
    return inner_->AppendEvents(items, inserted);
  }
  Result<std::vector<record::Event>> QueryEvents(const std::string& patient,
                                                 std::optional<Instant> from,
                                                 std::optional<Instant> to,
                                                 std::size_t limit) override {
    return inner_->QueryEvents(patient, from, to, limit);
  }
  Status ForEachEvent(const std::function<void(const record::Event&)>& v) override {
    return inner_->ForEachEvent(v);
  }
  Status AppendAudit(std::span<const AuditRow> rows) override { return inner_->AppendAudit(rows); }
  Status ForEachAudit(const std::function<void(const AuditRow&)>& v) override {
    return inner_->ForEachAudit(v);
  }
  Result<std::vector<AuditRow>> RecentAudit(std::size_t limit) override {
    return inner_->RecentAudit(limit);
  }
  Result<std::optional<AuditRow>> AuditRecord(std::uint64_t seq) override {
    return inner_->AuditRecord(seq);
  }
  Status AppendTreeHead(const TreeHeadRow& head) override { return inner_->AppendTreeHead(head); }
  Result<std::vector<TreeHeadRow>> TreeHeads() override { return inner_->TreeHeads(); }
  Status SaveTrial(const std::string& id, std::int64_t saved_us, const std::string& body) override {
    return inner_->SaveTrial(id, saved_us, body);
  }
  Result<std::vector<std::string>> RecentTrials(std::size_t limit) override {
    return inner_->RecentTrials(limit);
  }
  Status SaveLocation(const std::string& id, const std::string& body) override {
    return inner_->SaveLocation(id, body);
  }
  Result<std::vector<std::string>> LoadLocations() override { return inner_->LoadLocations(); }
  Status RevokeToken(const std::string& jti, std::int64_t revoked_us,
                     std::int64_t expires_s) override {
    return inner_->RevokeToken(jti, revoked_us, expires_s);
  }
  Result<std::vector<std::string>> RevokedTokens(std::int64_t now_s) override {
    return inner_->RevokedTokens(now_s);
  }
  Status CheckWritable(std::int64_t now_us) override { return inner_->CheckWritable(now_us); }

 private:
  std::unique_ptr<store::Store> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
};

// Counts what the live stream carries, by event type.
struct Recorder final : Broadcaster::Subscriber {
  std::mutex mu;
  std::vector<std::string> events;
  void Send(const std::string&, std::shared_ptr<const std::string> message) override {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(*message);
  }
  bool Alive() const override { return true; }
  std::size_t Count(std::string_view type) {
    std::lock_guard<std::mutex> lock(mu);
    std::size_t n = 0;
    for (const auto& e : events) n += e.find("event: " + std::string(type) + "\n") == 0;
    return n;
  }
};

json Spo2(double value, const std::string& time) {
  return {{"code", "2708-6"}, {"value", value}, {"unit", "%"}, {"time", time}, {"source", "m"}};
}

TEST(AlertLane, AnAlertGoesOutBeforeTheCommitEnds) {
  auto inner = store::OpenStore("sqlite::memory:");
  ASSERT_TRUE(inner.ok()) << inner.error().ToString();
  auto gated = std::make_unique<GatedStore>(std::move(*inner));
  GatedStore* gate = gated.get();
  auto broadcaster = std::make_shared<Broadcaster>();
  auto recorder = std::make_shared<Recorder>();
  recorder->all = true;
  broadcaster->Add(recorder);
  auto service = TwinService::Open(std::move(gated), 2, broadcaster);
  ASSERT_TRUE(service.ok()) << service.error().ToString();
  TwinService& s = **service;
  std::promise<std::string> alerted;
  auto alerted_future = alerted.get_future();
  std::once_flag once;
  s.SetAlertListener([&](const std::string& patient, const std::string&) {
    std::call_once(once, [&] { alerted.set_value(patient); });
  });
  ASSERT_TRUE(s.CreatePatient({{"id", "bed-1"}}).ok());

  // The commit is held: the reply waits for it, the alert does not.
  gate->Close();
  const std::string now = FormatRfc3339(WallClockNow());
  auto reply = std::async(std::launch::async, [&] { return s.Ingest({Spo2(84, now)}, "bed-1"); });
  ASSERT_EQ(alerted_future.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "no alert while the commit was held";
  EXPECT_EQ(alerted_future.get(), "bed-1");
  EXPECT_EQ(reply.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "the reply came before its commit";
  EXPECT_EQ(recorder->Count("observation"), 0u) << "the stream showed a reading not yet stored";
  gate->Open();
  auto report = reply.get();
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->accepted[0]["duplicate"], false);
  EXPECT_EQ(recorder->Count("observation"), 1u);
  s.engine().Drain();
  const auto open = s.engine().Alerts({record::AlertStatus::kOpen, std::nullopt, "bed-1"});
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].kind, "spo2-low");

  // The same reading resent: a duplicate in the store, nothing new on the stream, and the twin
  // does not take it twice. A conflicting value at that instant is refused by both.
  auto again = s.Ingest({Spo2(84, now)}, "bed-1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->accepted[0]["duplicate"], true);
  auto conflict = s.Ingest({Spo2(97, now)}, "bed-1");
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->accepted[0]["conflict"], true);
  s.engine().Drain();
  EXPECT_EQ(recorder->Count("observation"), 1u);
  const auto view = s.engine().View("bed-1", false);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->latest.at("2708-6").value, 84);
  EXPECT_EQ(s.engine().Alerts({record::AlertStatus::kOpen, std::nullopt, "bed-1"}).size(), 1u);
}

}  // namespace
}  // namespace medtwin::server
