// The alert lane (issue 15, item 11): the twins take a reading while the store commits it, so
// an alert goes out before the commit ends; the reply still waits for the commit, the live
// stream shows each stored reading once, and a resent reading changes nothing. Checked with a
// store whose commit is held until the test lets it go.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "../support/forwarding_store.h"
#include "medtwin/server/http_server.h"
#include "medtwin/server/service.h"
#include "medtwin/store/store.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

// A real SQLite store whose commits of readings wait at a gate the test opens.
class GatedStore final : public testing_support::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  Status Commit(const store::WriteBatch& batch, store::WriteBatchResult* result) override {
    if (!batch.observations.empty()) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return open_; });
    }
    return ForwardingStore::Commit(batch, result);
  }

 private:
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
