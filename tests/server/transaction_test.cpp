// A FHIR transaction is all or nothing (R4 §3.1.0.11.2) across patients, readings and doses:
// checked together under the patients' lock, committed in one store transaction. Checked with
// a real SQLite store whose commit the test can make fail, as a full disk would.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "../support/forwarding_store.h"
#include "medtwin/core/time.h"
#include "medtwin/record/observation.h"
#include "medtwin/server/service.h"

namespace medtwin::server {
namespace {

using nlohmann::json;
using Part = TransactionRefusal::Part;

// Commits fail while `failing` is set (before anything reaches the database).
class FailingStore final : public testing_support::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::atomic<bool> failing{false};
  Status Commit(const store::WriteBatch& batch, store::WriteBatchResult* result) override {
    if (failing) return Error{ErrorCode::kIoError, "store", "disk full (the test)"};
    return ForwardingStore::Commit(batch, result);
  }
};

struct Fixture {
  FailingStore* store = nullptr;
  std::unique_ptr<TwinService> service;
  Fixture() {
    auto inner = store::OpenStore("sqlite::memory:");
    EXPECT_TRUE(inner.ok()) << inner.error().ToString();
    auto failing = std::make_unique<FailingStore>(std::move(*inner));
    store = failing.get();
    auto s = TwinService::Open(std::move(failing), 2, std::make_shared<Broadcaster>());
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    service = std::move(*s);
  }
};

record::Observation Reading(const std::string& patient, const std::string& code, double value,
                            Instant time) {
  record::Observation o;
  o.patient = patient;
  o.code = code;
  o.value = value;
  o.time = time;
  o.source = "ehr";
  return o;
}

record::Event Dose(const std::string& patient, Instant time) {
  record::Event e;
  e.patient = patient;
  e.type = "dose";
  e.drug = "vancomycin";
  e.amount = 1000;
  e.duration_h = 1;
  e.time = time;
  e.source = "fhir:MedicationAdministration/ma-1";
  return e;
}

json WithMrn(const std::string& id, const std::string& mrn) {
  return {{"id", id}, {"identifiers", {{{"system", "urn:mrn"}, {"value", mrn}}}}};
}

TEST(Transaction, AFailedCommitChangesNothingAndTheRetryChangesEverythingOnce) {
  Fixture f;
  TwinService& s = *f.service;
  ASSERT_TRUE(s.CreatePatient({{"id", "p1"}, {"weight_kg", 70}, {"models", {"vancomycin"}}}).ok());
  const int version_before = s.Patient("p1")->version;
  const Instant now = WallClockNow();
  TransactionWrites w;
  w.patients.push_back({WithMrn("p1", "MRN-1"), true});
  w.patients.push_back({WithMrn("p2", "MRN-2"), false});
  w.observations.push_back(Reading("p1", std::string(record::loinc::kBodyWeight), 82, now));
  w.observations.push_back(Reading("p2", "8867-4", 88, now));
  w.events.push_back(Dose("p1", now));

  f.store->failing = true;
  TransactionRefusal refused;
  auto failed = s.CommitTransaction(w, &refused);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kIoError);
  EXPECT_EQ(refused.part, Part::kNone);  // not a write's fault
  EXPECT_FALSE(s.Patient("p2").has_value());
  EXPECT_EQ(s.Patient("p1")->version, version_before);
  EXPECT_EQ(*s.Patient("p1")->weight_kg, 70);
  EXPECT_TRUE(s.Patient("p1")->identifiers.empty());
  EXPECT_TRUE(s.PatientsWithIdentifier({"urn:mrn", "MRN-2"}).empty());
  EXPECT_EQ(*s.store().CountObservations(), 0u);
  s.engine().Drain();
  EXPECT_FALSE(s.engine().View("p2", false).has_value());

  f.store->failing = false;
  auto done = s.CommitTransaction(w, &refused);
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  ASSERT_EQ(done->patients.size(), 2u);
  // The update is one new version, stored with the rest; the measured weight, once stored as
  // a new reading, the next.
  EXPECT_EQ(done->patients[0].version, version_before + 1);
  EXPECT_EQ(*done->patients[0].weight_kg, 70);
  EXPECT_EQ(done->patients[1].version, 1);
  EXPECT_EQ(done->inserted.observation_inserted, (std::vector<bool>{true, true}));
  EXPECT_EQ(done->inserted.event_inserted, (std::vector<bool>{true}));
  EXPECT_EQ(s.Patient("p1")->version, version_before + 2);
  EXPECT_EQ(*s.Patient("p1")->weight_kg, 82);
  EXPECT_EQ(s.Patient("p1")->identifiers.size(), 1u);
  ASSERT_EQ(s.PatientsWithIdentifier({"urn:mrn", "MRN-2"}).size(), 1u);
  EXPECT_EQ(*s.store().CountObservations(), 2u);
  auto doses = s.store().QueryEvents("p1", std::nullopt, std::nullopt, 10);
  ASSERT_TRUE(doses.ok());
  EXPECT_EQ(doses->size(), 1u);
  auto versions = s.PatientHistory("p1");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->front().version, version_before + 2);
  EXPECT_EQ(*versions->front().weight_kg, 82);
  s.engine().Drain();
  auto view = s.engine().View("p2", false);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->latest.at("8867-4").value, 88);
}

// A weight entered by hand after a measured one stays when a transaction resends the old
// measurement (a duplicate in the store changes nothing).
TEST(Transaction, AResentOldWeightDoesNotReplaceOneEnteredSince) {
  Fixture f;
  TwinService& s = *f.service;
  ASSERT_TRUE(s.CreatePatient({{"id", "w1"}, {"weight_kg", 70}}).ok());
  TransactionWrites w;
  w.observations.push_back(
      Reading("w1", std::string(record::loinc::kBodyWeight), 75, WallClockNow()));
  TransactionRefusal refused;
  ASSERT_TRUE(s.CommitTransaction(w, &refused).ok());
  EXPECT_EQ(*s.Patient("w1")->weight_kg, 75);
  ASSERT_TRUE(s.UpdatePatient("w1", {{"id", "w1"}, {"weight_kg", 68}}).ok());
  EXPECT_EQ(*s.Patient("w1")->weight_kg, 68);
  auto again = s.CommitTransaction(w, &refused);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->inserted.observation_inserted, (std::vector<bool>{false}));
  EXPECT_EQ(*s.Patient("w1")->weight_kg, 68);
}

TEST(Transaction, AReadingItsPatientCannotHaveRefusesThePatientsOfTheBundleToo) {
  Fixture f;
  TwinService& s = *f.service;
  TransactionWrites w;
  w.patients.push_back({{{"id", "baby"}, {"birth_date", "2026-01-01"}}, false});
  w.observations.push_back(Reading("baby", "8867-4", 130, Instant{0}));  // 1970: before birth
  TransactionRefusal refused;
  auto r = s.CommitTransaction(w, &refused);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(refused.part, Part::kObservation);
  EXPECT_EQ(refused.index, 0u);
  EXPECT_EQ(r.error().field, "time");
  EXPECT_FALSE(s.Patient("baby").has_value());
  EXPECT_TRUE(s.store().LoadPatients()->empty());

  // A dose for nobody: named by its index among the doses.
  TransactionWrites dose;
  dose.patients.push_back({{{"id", "p9"}}, false});
  dose.events.push_back(Dose("p9", WallClockNow()));
  dose.events.push_back(Dose("nobody", WallClockNow()));
  r = s.CommitTransaction(dose, &refused);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(refused.part, Part::kEvent);
  EXPECT_EQ(refused.index, 1u);
  EXPECT_FALSE(s.Patient("p9").has_value());
}

TEST(Transaction, IdentifiersMaySwapWithinOneTransactionButNotBeTakenTwice) {
  Fixture f;
  TwinService& s = *f.service;
  ASSERT_TRUE(s.CreatePatient(WithMrn("a", "MRN-A")).ok());
  ASSERT_TRUE(s.CreatePatient(WithMrn("b", "MRN-B")).ok());
  TransactionWrites swap;
  swap.patients.push_back({WithMrn("a", "MRN-B"), true});
  swap.patients.push_back({WithMrn("b", "MRN-A"), true});
  TransactionRefusal refused;
  auto r = s.CommitTransaction(swap, &refused);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(s.PatientsWithIdentifier({"urn:mrn", "MRN-B"}).front().id, "a");

  // Two new patients with one MRN: the second write is the one named.
  TransactionWrites clash;
  clash.patients.push_back({WithMrn("c", "MRN-C"), false});
  clash.patients.push_back({WithMrn("d", "MRN-C"), false});
  r = s.CommitTransaction(clash, &refused);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(refused.part, Part::kPatient);
  EXPECT_EQ(refused.index, 1u);
  EXPECT_FALSE(s.Patient("c").has_value());
  // A stored patient keeps its MRN while a new one takes it: the taker is named, whatever the
  // order of the entries.
  TransactionWrites keeps;
  keeps.patients.push_back({WithMrn("f", "MRN-B"), false});
  keeps.patients.push_back({WithMrn("a", "MRN-B"), true});
  r = s.CommitTransaction(keeps, &refused);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(refused.index, 0u);
  EXPECT_FALSE(s.Patient("f").has_value());
  // One stored patient's MRN taken by a new one.
  TransactionWrites taken;
  taken.patients.push_back({WithMrn("e", "MRN-A"), false});
  r = s.CommitTransaction(taken, &refused);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
}

// Transactions racing for one MRN: the checks and the commit are one step, so exactly one wins.
TEST(Transaction, RacingTransactionsCannotBothTakeOneIdentifier) {
  Fixture f;
  TwinService& s = *f.service;
  constexpr int kThreads = 8;
  std::atomic<int> won{0}, refused_as_taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      TransactionWrites w;
      w.patients.push_back({WithMrn("racer-" + std::to_string(t), "MRN-RACE"), false});
      TransactionRefusal refused;
      auto r = s.CommitTransaction(w, &refused);
      if (r.ok()) ++won;
      if (!r.ok() && r.error().code == ErrorCode::kAlreadyExists) ++refused_as_taken;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(refused_as_taken.load(), kThreads - 1);
  EXPECT_EQ(s.PatientsWithIdentifier({"urn:mrn", "MRN-RACE"}).size(), 1u);
  EXPECT_EQ(s.store().LoadPatients()->size(), 1u);
}

}  // namespace
}  // namespace medtwin::server
