// One storage suite run on both backends: SQLite (a file in a temp dir) and a real PostgreSQL
// server started for the test (scripts/pg_test_server.sh). Plus SQLite durability under
// kill -9 of a writer process.
#include "medtwin/store/store.h"

#include <sqlite3.h>

#include "../support/pg_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace medtwin::store {
namespace {

namespace fs = std::filesystem;

using testing_support::PostgresServer;
using testing_support::Shell;
const auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresServer);

record::Observation Obs(const std::string& patient, const std::string& code, std::int64_t t_s,
                        double value, const std::string& source = "dev") {
  record::Observation o;
  o.patient = patient;
  o.code = code;
  o.time.us_since_epoch = t_s * 1'000'000;
  o.value = value;
  o.source = source;
  return o;
}

class StoreSuite : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = fs::temp_directory_path() / ("medtwin_store_" + std::to_string(::getpid()));
      fs::create_directories(dir_);
      auto s = OpenStore("sqlite:" + (dir_ / "t.db").string());
      ASSERT_TRUE(s.ok()) << s.error().ToString();
      store_ = std::move(*s);
    } else {
      ASSERT_NE(PostgresServer::Conninfo().find("dbname="), std::string::npos)
          << "PostgreSQL did not start: " << PostgresServer::Conninfo();
      auto s = OpenPostgresStore(PostgresServer::Conninfo());
      ASSERT_TRUE(s.ok()) << s.error().ToString();
      store_ = std::move(*s);
      PostgresServer::Truncate();  // each test starts empty
    }
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::unique_ptr<Store> store_;
  fs::path dir_;
};

TEST_P(StoreSuite, PatientsUpsertAndLoad) {
  ASSERT_TRUE(store_->UpsertPatient({"p2", R"({"weight_kg":70})"}).ok());
  ASSERT_TRUE(store_->UpsertPatient({"p1", R"({"weight_kg":60})"}).ok());
  ASSERT_TRUE(store_->UpsertPatient({"p2", R"({"weight_kg":72})"}).ok());
  auto rows = store_->LoadPatients();
  ASSERT_TRUE(rows.ok()) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].id, "p1");
  EXPECT_EQ((*rows)[1].body, R"({"weight_kg":72})");
}

TEST_P(StoreSuite, TrialsAreReplacedByIdAndListedNewestFirst) {
  ASSERT_TRUE(store_->SaveTrial("trial-1", 100, R"({"id":"trial-1","status":"failed"})").ok());
  ASSERT_TRUE(store_->SaveTrial("trial-2", 200, R"({"id":"trial-2"})").ok());
  ASSERT_TRUE(store_->SaveTrial("trial-3", 300, R"({"id":"trial-3"})").ok());
  ASSERT_TRUE(store_->SaveTrial("trial-1", 400, R"({"id":"trial-1","status":"done"})").ok());
  auto two = store_->RecentTrials(2);
  ASSERT_TRUE(two.ok()) << two.error().ToString();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0], R"({"id":"trial-1","status":"done"})");
  EXPECT_EQ((*two)[1], R"({"id":"trial-3"})");
  EXPECT_EQ(store_->RecentTrials(10)->size(), 3u);
}

TEST_P(StoreSuite, AppendDeduplicatesAndFlagsWhatIsNew) {
  std::vector<record::Observation> batch = {Obs("p1", "8867-4", 100, 80),
                                            Obs("p1", "8867-4", 160, 82),
                                            Obs("p1", "8867-4", 100, 80),  // duplicate in batch
                                            Obs("p1", "8867-4", 100, 80, "other")};  // other source
  std::vector<bool> inserted;
  auto n = store_->AppendObservations(batch, &inserted);
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(inserted, (std::vector<bool>{true, true, false, true}));
  // The same again: nothing new.
  n = store_->AppendObservations(batch, &inserted);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(inserted, (std::vector<bool>{false, false, false, false}));
  EXPECT_EQ(*store_->CountObservations(), 3u);
}

TEST_P(StoreSuite, QueriesFilterAndPageInTimeOrder) {
  std::vector<record::Observation> batch;
  for (int i = 0; i < 250; ++i) {
    batch.push_back(Obs("p1", i % 2 == 0 ? "8867-4" : "9279-1", 1000 + 60 * (249 - i), i));
  }
  batch.push_back(Obs("p2", "8867-4", 1000, 1));
  ASSERT_TRUE(store_->AppendObservations(batch).ok());
  // Page through heart rates 40 at a time: every one once, in time order.
  ObservationQuery q;
  q.patient = "p1";
  q.code = "8867-4";
  q.limit = 40;
  std::vector<record::Observation> all;
  int pages = 0;
  for (;;) {
    auto page = store_->QueryObservations(q);
    ASSERT_TRUE(page.ok()) << page.error().ToString();
    all.insert(all.end(), page->items.begin(), page->items.end());
    ++pages;
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(all.size(), 125u);
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].time, all[i].time);
    EXPECT_EQ(all[i].code, "8867-4");
  }
  // Time window, inclusive at both ends.
  ObservationQuery w;
  w.patient = "p1";
  w.from = Instant{(1000 + 60 * 10) * 1'000'000LL};
  w.to = Instant{(1000 + 60 * 19) * 1'000'000LL};
  auto window = store_->QueryObservations(w);
  ASSERT_TRUE(window.ok());
  EXPECT_EQ(window->items.size(), 10u);
  EXPECT_TRUE(window->next_cursor.empty());
  w.cursor = "garbage";
  auto bad = store_->QueryObservations(w);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "cursor");
}

TEST_P(StoreSuite, TextRoundTripsAndReplayIsOrderedPerPatient) {
  record::Observation odd = Obs("pa\"ti,ent{1}\\", "80288-4", 50, 2, "sensor \"x\", bed 3 – ü");
  odd.text = "V";
  ASSERT_TRUE(store_
                  ->AppendObservations(std::vector<record::Observation>{
                      Obs("b", "8867-4", 30, 1), odd, Obs("b", "8867-4", 10, 2)})
                  .ok());
  std::vector<record::Observation> seen;
  ASSERT_TRUE(
      store_->ForEachObservation([&](const record::Observation& o) { seen.push_back(o); }).ok());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].patient, "b");
  EXPECT_EQ(seen[0].time.us_since_epoch, 10'000'000);
  EXPECT_EQ(seen[1].time.us_since_epoch, 30'000'000);
  EXPECT_EQ(seen[2].patient, odd.patient);
  EXPECT_EQ(seen[2].source, odd.source);
  EXPECT_EQ(seen[2].text, "V");
}

record::Event Dose(const std::string& patient, std::int64_t t_s) {
  record::Event e;
  e.patient = patient;
  e.type = "dose";
  e.drug = "vancomycin";
  e.amount = 1000;
  e.duration_h = 1;
  e.time.us_since_epoch = t_s * 1'000'000;
  e.source = "fhir";
  return e;
}

// A FHIR transaction's writes: patients (with their versions), readings and doses together.
TEST_P(StoreSuite, ABatchCommitsEveryPartTogether) {
  const std::vector<PatientRow> patients = {{"p-new", R"({"id":"p-new"})", 1},
                                            {"p-old", R"({"id":"p-old","weight_kg":70})", 2}};
  const std::vector<record::Observation> readings = {Obs("p-new", "8867-4", 100, 80),
                                                     Obs("p-new", "8867-4", 100, 80)};
  const std::vector<record::Event> doses = {Dose("p-old", 50), Dose("p-old", 50)};
  WriteBatchResult result;
  Status s = store_->Commit({patients, readings, doses}, &result);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(result.observation_inserted, (std::vector<bool>{true, false}));
  EXPECT_EQ(result.event_inserted, (std::vector<bool>{true, false}));
  EXPECT_EQ(store_->LoadPatients()->size(), 2u);
  ASSERT_EQ(store_->PatientVersions("p-old")->size(), 1u);
  EXPECT_EQ(store_->PatientVersions("p-old")->front().version, 2);
  EXPECT_EQ(*store_->CountObservations(), 1u);
  // Stamped with the commit's time, read back with it.
  EXPECT_GT(result.committed_at.us_since_epoch, 0);
  ObservationQuery q;
  q.patient = "p-new";
  auto page = store_->QueryObservations(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].stored_at, result.committed_at);
  // A duplicate sent later keeps the first time it was stored.
  WriteBatchResult later;
  ASSERT_TRUE(store_->Commit({.observations = readings}, &later).ok());
  EXPECT_EQ(later.observation_inserted, (std::vector<bool>{false, false}));
  page = store_->QueryObservations(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items[0].stored_at, result.committed_at);
  auto events = store_->QueryEvents("p-old", std::nullopt, std::nullopt, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().drug, "vancomycin");
}

// The database refuses the last part (a trigger on the events table, as a full disk or a lost
// connection would mid-transaction): the patients and readings written before it are gone too,
// and the store takes the next batch.
TEST_P(StoreSuite, ABatchThatFailsLeavesNothing) {
  if (GetParam() == "sqlite") {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "t.db").string().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.patient = "
                           "'boom' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  } else {
    Shell("psql \"" + PostgresServer::Conninfo() +
          "\" -q -c \"CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS \\$\\$ BEGIN IF "
          "NEW.patient = 'boom' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; "
          "END \\$\\$ LANGUAGE plpgsql; DROP TRIGGER IF EXISTS refuse ON events; CREATE TRIGGER "
          "refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse();\" 2>&1");
  }
  const std::vector<PatientRow> patients = {{"boom", R"({"id":"boom"})", 1}};
  const std::vector<record::Observation> readings = {Obs("boom", "8867-4", 100, 80)};
  const std::vector<record::Event> doses = {Dose("boom", 50)};
  WriteBatchResult result;
  Status s = store_->Commit({patients, readings, doses}, &result);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("refused by the test"), std::string::npos) << s.error().message;
  EXPECT_EQ(result.observation_inserted, (std::vector<bool>{false}));
  EXPECT_TRUE(store_->LoadPatients()->empty());
  EXPECT_TRUE(store_->PatientVersions("boom")->empty());
  EXPECT_EQ(*store_->CountObservations(), 0u);
  // The next batch commits.
  const std::vector<PatientRow> fine = {{"fine", R"({"id":"fine"})", 1}};
  s = store_->Commit({fine, readings, {}}, &result);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(store_->LoadPatients()->size(), 1u);
  EXPECT_EQ(*store_->CountObservations(), 1u);
  if (GetParam() != "sqlite") {
    Shell("psql \"" + PostgresServer::Conninfo() +
          "\" -q -c 'DROP TRIGGER IF EXISTS refuse ON events' 2>&1");
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreSuite, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

// A writer process appends batches and reports each acknowledged batch on a pipe; it is killed
// with SIGKILL mid-stream. Every acknowledged observation is in the file afterwards.
TEST(SqliteDurability, AcknowledgedBatchesSurviveKillNine) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_kill_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string url = "sqlite:" + (dir / "k.db").string();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    auto s = OpenStore(url);
    if (!s.ok()) ::_exit(3);
    for (int b = 0;; ++b) {
      std::vector<record::Observation> batch;
      for (int i = 0; i < 100; ++i) batch.push_back(Obs("p", "8867-4", b * 100 + i, 70));
      if (!(*s)->AppendObservations(batch).ok()) ::_exit(4);
      const int acked = (b + 1) * 100;
      if (::write(fds[1], &acked, sizeof acked) != sizeof acked) ::_exit(5);
    }
  }
  ::close(fds[1]);
  int acked = 0, value = 0;
  while (acked < 2000 && ::read(fds[0], &value, sizeof value) == sizeof value) acked = value;
  ::kill(child, SIGKILL);
  // Drain what was acknowledged before the kill landed.
  while (::read(fds[0], &value, sizeof value) == sizeof value) acked = value;
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer should have been killed";
  auto s = OpenStore(url);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  const std::size_t count = *(*s)->CountObservations();
  EXPECT_GE(count, static_cast<std::size_t>(acked));
  EXPECT_GE(acked, 2000);
  s->reset();
  fs::remove_all(dir);
}

// A store written by the first version (rowid table, two indexes) is migrated on open and
// keeps every observation.
TEST(SqliteStore, MigratesTheFirstSchema) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_mig_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "old.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE observations(id INTEGER PRIMARY KEY, patient TEXT NOT NULL, "
                         "code TEXT NOT NULL, time_us INTEGER NOT NULL, value REAL NOT NULL, "
                         "text TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '', "
                         "UNIQUE(patient, code, time_us, source));"
                         "CREATE INDEX observations_by_patient_time ON observations(patient, "
                         "time_us, id);"
                         "INSERT INTO observations(patient, code, time_us, value, source) VALUES "
                         "('a', '8867-4', 2, 80, 's'), ('a', '8867-4', 1, 70, 's'), "
                         "('b', '2708-6', 1, 97, 's');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = OpenStore("sqlite:" + path);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(*(*s)->CountObservations(), 3u);
  ObservationQuery q;
  q.patient = "a";
  auto page = (*s)->QueryObservations(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].value, 70);
  // And it takes new data in the new layout, still deduplicating.
  std::vector<bool> inserted;
  ASSERT_TRUE((*s)->AppendObservations(std::vector<record::Observation>{Obs("a", "8867-4", 0, 1)},
                                       &inserted)
                  .ok());
  s->reset();
  fs::remove_all(dir);
}

// A store from before the stored time was kept (user_version 4): its readings read back with
// time 0 (unknown), new ones with the time of their commit.
TEST(SqliteStore, ReadingsStoredBeforeTheStoredTimeWasKeptSayUnknown) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_mig4_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "v4.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE observations(patient TEXT NOT NULL, time_us INTEGER NOT "
                         "NULL, code TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', value REAL "
                         "NOT NULL, text TEXT NOT NULL DEFAULT '', PRIMARY KEY(patient, time_us, "
                         "code, source)) WITHOUT ROWID;"
                         "INSERT INTO observations(patient, code, time_us, value, source) VALUES "
                         "('a', '8867-4', 1000000, 70, 's');"
                         "PRAGMA user_version = 4;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = OpenStore("sqlite:" + path);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  WriteBatchResult result;
  const std::vector<record::Observation> fresh = {Obs("a", "8867-4", 2, 80)};
  ASSERT_TRUE((*s)->Commit({.observations = fresh}, &result).ok());
  ObservationQuery q;
  q.patient = "a";
  auto page = (*s)->QueryObservations(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].stored_at.us_since_epoch, 0);
  EXPECT_EQ(page->items[1].stored_at, result.committed_at);
  s->reset();
  fs::remove_all(dir);
}

TEST(OpenStore, UnknownUrlsAndUnreachableServersAreClearErrors) {
  auto a = OpenStore("mysql://x");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("neither sqlite:PATH nor postgresql://"), std::string::npos);
  auto b = OpenStore("postgresql://127.0.0.1:1/nothing?connect_timeout=2");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("cannot connect to PostgreSQL"), std::string::npos);
  auto c = OpenStore("sqlite:/nonexistent-dir/x.db");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "--store");
}

}  // namespace
}  // namespace medtwin::store
