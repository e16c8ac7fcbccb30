// Predictive hypoglycemia alert: raised once per episode with hysteresis, and scored against
// what happened (events caught, lead time, false alerts) on constructed traces.
#include "medtwin/monitor/hypoglycemia.h"

#include <gtest/gtest.h>

#include <vector>

namespace medtwin::monitor {
namespace {

TEST(HypoglycemiaAlert, RaisesOncePerEpisodeAndClearsWithHysteresis) {
  HypoglycemiaAlert alert;
  std::vector<double> fine{120, 110, 100}, low{90, 80, 68}, middling{80, 76, 75}, high{90, 95, 99};
  EXPECT_FALSE(alert.Feed(0, 100, fine));
  EXPECT_TRUE(alert.Feed(5, 100, low));
  EXPECT_FALSE(alert.Feed(10, 100, low));       // still active: not raised again
  EXPECT_FALSE(alert.Feed(15, 100, middling));  // min 75 is not above 80: stays active
  EXPECT_TRUE(alert.active());
  EXPECT_FALSE(alert.Feed(20, 100, high));  // clears
  EXPECT_FALSE(alert.active());
  EXPECT_TRUE(alert.Feed(25, 100, low));  // a new episode
  EXPECT_EQ(alert.raised_at(), (std::vector<double>{5, 25}));
  // Already below 70: the plain hypoglycemia alert speaks; no prediction is raised.
  HypoglycemiaAlert already;
  EXPECT_FALSE(already.Feed(0, 65, low));
  EXPECT_FALSE(already.active());
  EXPECT_TRUE(already.Feed(5, 72, low));
  EXPECT_FALSE(alert.Feed(30, 100, {}));
}

// The rule's path into a patient's alert lifecycle: one alert per episode, raised high with the
// lowest forecast in its message, resolved when the rule clears, a new alert for a new episode.
TEST(HypoglycemiaAlert, FeedsOneAlertBookPerEpisode) {
  AlertBook book("p1");
  struct BookSink final : AlertSink {
    AlertBook& book;
    explicit BookSink(AlertBook& b) : book(b) {}
    void Raise(std::string_view kind, Severity s, Instant t, std::string message) override {
      static std::uint64_t next = 0;
      book.Raise(kind, s, t, std::move(message), [] { return ++next; });
    }
    void Resolve(std::string_view kind, Instant t) override { book.Resolve(kind, t); }
  } sink(book);
  HypoglycemiaAlert rule;
  const std::vector<double> low{90, 80, 68}, high{90, 95, 99};
  auto at = [](double min) { return Instant{static_cast<std::int64_t>(min * 6e7)}; };
  FeedPredictedHypoglycemia(rule, sink, at(5), 5, 100, low);
  FeedPredictedHypoglycemia(rule, sink, at(10), 10, 100, low);
  ASSERT_EQ(book.all().size(), 1u);
  const Alert first = book.all()[0];
  EXPECT_EQ(first.kind, kPredictedHypoglycemiaKind);
  EXPECT_EQ(first.severity, Severity::kHigh);
  EXPECT_EQ(first.message, "glucose predicted to fall to 68 mg/dL within 30 min");
  EXPECT_EQ(first.raised_at, at(5));
  FeedPredictedHypoglycemia(rule, sink, at(20), 20, 100, high);
  EXPECT_EQ(book.all()[0].status, AlertStatus::kResolved);
  FeedPredictedHypoglycemia(rule, sink, at(25), 25, 100, low);
  ASSERT_EQ(book.all().size(), 2u);
  EXPECT_NE(book.all()[1].id, first.id);
  EXPECT_EQ(book.all()[1].status, AlertStatus::kOpen);
}

TEST(HypoglycemiaAlert, PerformanceCountsEventsLeadTimesAndFalseAlerts) {
  // BG every 5 min: falls below 70 at t = 50, recovers, falls again at t = 200.
  std::vector<double> t, bg;
  for (int k = 0; k <= 60; ++k) {
    t.push_back(5.0 * k);
    const double tt = 5.0 * k;
    bg.push_back((tt >= 50 && tt < 100) || (tt >= 200 && tt < 230) ? 62 : 110);
  }
  // Alerts: 25 min before the first event, one at 120 followed by nothing (false), one at 215
  // while already low (late, not false). The second event has no alert before it.
  const std::vector<double> alerts{25, 120, 215};
  const AlertPerformance p = EvaluateHypoAlerts(t, bg, alerts);
  EXPECT_EQ(p.events, 2);
  EXPECT_EQ(p.detected, 1);
  ASSERT_EQ(p.lead_times_min.size(), 1u);
  EXPECT_DOUBLE_EQ(p.lead_times_min[0], 25);
  EXPECT_DOUBLE_EQ(p.MeanLeadMin(), 25);
  EXPECT_EQ(p.alerts, 3);
  EXPECT_EQ(p.false_alerts, 1);
}

}  // namespace
}  // namespace medtwin::monitor
