// SQLite backend: one connection behind a mutex, WAL journal, synchronous=FULL (a commit is
// on disk when it returns), prepared statements, one transaction per batch.
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <limits>
#include <mutex>

#include "medtwin/core/text.h"
#include "medtwin/core/time.h"
#include "medtwin/store/store.h"

namespace medtwin::store {
namespace {

// One B-tree for observations: the primary key is both the deduplication key and the index
// every query uses (patient, then time), so an insert touches one tree instead of three.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS patients(
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS patient_versions(
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY(id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS observations(
  patient TEXT NOT NULL,
  time_us INTEGER NOT NULL,
  code TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  value REAL NOT NULL,
  text TEXT NOT NULL DEFAULT '',
  stored_us INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(patient, time_us, code, source)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events(
  patient TEXT NOT NULL,
  time_us INTEGER NOT NULL,
  type TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  PRIMARY KEY(patient, time_us, type, source)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit(
  seq INTEGER PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_heads(
  size INTEGER PRIMARY KEY,
  root TEXT NOT NULL,
  time_us INTEGER NOT NULL,
  signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials(
  id TEXT PRIMARY KEY,
  saved_us INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS locations(
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_tokens(
  jti TEXT PRIMARY KEY,
  revoked_us INTEGER NOT NULL,
  expires_s INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS health(
  id INTEGER PRIMARY KEY,
  checked_us INTEGER NOT NULL
);
PRAGMA user_version = 5;
)sql";

class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  // close_v2: the connection goes once the member statements are finalized (after this body).
  ~SqliteStore() override { sqlite3_close_v2(db_); }
  std::string_view Kind() const override { return "sqlite"; }

  // `power_safe`: synchronous=FULL, a commit survives power loss; otherwise NORMAL, which in
  // WAL mode still survives a crash or kill -9 of the process (the OS has the WAL pages) but
  // not a power cut, and saves an fsync per commit.
  Status Init(bool power_safe) {
    MEDTWIN_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    MEDTWIN_RETURN_IF_ERROR(
        Exec(power_safe ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
    MEDTWIN_RETURN_IF_ERROR(Exec("PRAGMA busy_timeout=5000"));
    // The observation tree outgrows SQLite's default 2 MB page cache quickly; reading pages back
    // through syscalls then dominates ingest. A 64 MB cache and memory-mapped reads keep it in
    // user space (measured: bulk ingest from ~89k to see docs/benchmarks.md).
    MEDTWIN_RETURN_IF_ERROR(Exec("PRAGMA cache_size=-65536"));
    MEDTWIN_RETURN_IF_ERROR(Exec("PRAGMA mmap_size=1073741824"));
    MEDTWIN_RETURN_IF_ERROR(MigrateFromVersion1());
    MEDTWIN_RETURN_IF_ERROR(Exec(kSchema));
    MEDTWIN_RETURN_IF_ERROR(AddStoredTime());
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("INSERT OR IGNORE INTO observations(patient, code, time_us, value, text, source, "
                "stored_us) VALUES(?,?,?,?,?,?,?)",
                insert_obs_));
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("INSERT INTO patients(id, body) VALUES(?,?) ON CONFLICT(id) DO UPDATE SET "
                "body=excluded.body",
                upsert_patient_));
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("INSERT OR REPLACE INTO patient_versions(id, version, body) VALUES(?,?,?)",
                insert_version_));
    MEDTWIN_RETURN_IF_ERROR(Prepare(
        "INSERT OR IGNORE INTO events(patient, time_us, type, source, body) VALUES(?,?,?,?,?)",
        insert_event_));
    return Ok{};
  }

  // Stores written before version 5 did not keep when an observation was stored: their rows
  // get 0 (unknown).
  Status AddStoredTime() {
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare(
        "SELECT count(*) FROM pragma_table_info('observations') WHERE name = 'stored_us'", st));
    if (sqlite3_step(st.get()) == SQLITE_ROW && sqlite3_column_int(st.get(), 0) > 0) return Ok{};
    return Exec("ALTER TABLE observations ADD COLUMN stored_us INTEGER NOT NULL DEFAULT 0");
  }

  // Stores written by the first version had a rowid table with two extra indexes.
  Status MigrateFromVersion1() {
    int old_columns = 0;
    {
      Statement st;
      MEDTWIN_RETURN_IF_ERROR(
          Prepare("SELECT count(*) FROM pragma_table_info('observations') WHERE name = 'id'", st));
      if (sqlite3_step(st.get()) == SQLITE_ROW) old_columns = sqlite3_column_int(st.get(), 0);
    }
    if (old_columns == 0) return Ok{};
    MEDTWIN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    MEDTWIN_RETURN_IF_ERROR(Exec("ALTER TABLE observations RENAME TO observations_v1"));
    MEDTWIN_RETURN_IF_ERROR(Exec("DROP INDEX IF EXISTS observations_by_patient_time"));
    MEDTWIN_RETURN_IF_ERROR(Exec(kSchema));
    MEDTWIN_RETURN_IF_ERROR(
        Exec("INSERT OR IGNORE INTO observations(patient, time_us, code, source, value, text) "
             "SELECT patient, time_us, code, source, value, text FROM observations_v1"));
    MEDTWIN_RETURN_IF_ERROR(Exec("DROP TABLE observations_v1"));
    return Exec("COMMIT");
  }

  Result<std::vector<PatientRow>> PatientVersions(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare(
        "SELECT id, body, version FROM patient_versions WHERE id = ? ORDER BY version DESC", st));
    Bind(st, 1, id);
    std::vector<PatientRow> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      out.push_back({Text(st, 0), Text(st, 1), sqlite3_column_int(st.get(), 2)});
    }
    if (rc != SQLITE_DONE) return Fail("patient versions");
    return out;
  }

  Result<std::vector<PatientRow>> LoadPatients() override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare("SELECT id, body FROM patients ORDER BY id", st));
    std::vector<PatientRow> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      out.push_back({Text(st, 0), Text(st, 1)});
    }
    if (rc != SQLITE_DONE) return Fail("load patients");
    return out;
  }

  // Group commit: callers that arrive while a commit is running queue up; the next one to
  // find the writer free writes every queued batch in one transaction (one fsync) and wakes
  // the others. Each caller still returns only after its rows are committed; each batch is a
  // savepoint, so one that fails takes none of its rows and none of the others' failures.
  Status Commit(const WriteBatch& batch, WriteBatchResult* result) override {
    WriteBatchResult scratch;
    Pending me{&batch, result != nullptr ? result : &scratch, Status(Ok{}), false};
    std::unique_lock<std::mutex> lock(group_mu_);
    queue_.push_back(&me);
    while (!me.done) {
      if (writer_busy_) {
        group_cv_.wait(lock);
        continue;
      }
      writer_busy_ = true;
      std::vector<Pending*> group;
      group.swap(queue_);
      lock.unlock();
      WriteGroup(group);
      lock.lock();
      for (Pending* p : group) p->done = true;
      writer_busy_ = false;
      group_cv_.notify_all();
    }
    if (!me.status.ok()) {  // nothing of it was stored
      me.result->observation_inserted.assign(batch.observations.size(), false);
      me.result->event_inserted.assign(batch.events.size(), false);
    }
    return me.status;
  }

  struct Pending {
    const WriteBatch* batch;
    WriteBatchResult* result;
    Status status;
    bool done;
  };

  void WriteGroup(const std::vector<Pending*>& group) {
    std::lock_guard<std::mutex> lock(mu_);
    auto fail_all = [&](const Error& e) {
      for (Pending* p : group) p->status = e;
    };
    if (Status begin = Exec("BEGIN IMMEDIATE"); !begin.ok()) return fail_all(begin.error());
    const Instant now = WallClockNow();
    for (Pending* p : group) {
      p->result->committed_at = now;
      if (Status s = Exec("SAVEPOINT batch"); !s.ok()) {
        (void)Exec("ROLLBACK");
        return fail_all(s.error());
      }
      p->status = WriteBatchRows(*p->batch, *p->result);
      for (Statement* st : {&insert_obs_, &upsert_patient_, &insert_version_, &insert_event_}) {
        sqlite3_reset(st->get());  // none left mid-step across the savepoint's end
      }
      if (!p->status.ok()) {
        // Some errors (disk full, I/O, out of memory) make SQLite roll the whole transaction
        // back itself: then every batch of the group failed, with this batch's error.
        if (sqlite3_get_autocommit(db_) != 0) return fail_all(p->status.error());
        if (Status s = Exec("ROLLBACK TO batch"); !s.ok()) {
          (void)Exec("ROLLBACK");
          return fail_all(s.error());
        }
      }
      if (Status s = Exec("RELEASE batch"); !s.ok()) {
        (void)Exec("ROLLBACK");
        return fail_all(s.error());
      }
    }
    if (Status commit = Exec("COMMIT"); !commit.ok()) {
      (void)Exec("ROLLBACK");
      return fail_all(commit.error());
    }
  }

  // The rows of one batch, inside the open transaction (mu_ held).
  Status WriteBatchRows(const WriteBatch& batch, WriteBatchResult& result) {
    for (const PatientRow& row : batch.patients) {
      sqlite3_reset(upsert_patient_.get());
      Bind(upsert_patient_, 1, row.id);
      Bind(upsert_patient_, 2, row.body);
      MEDTWIN_RETURN_IF_ERROR(Step(upsert_patient_));
      if (row.version <= 0) continue;  // (a row from before versions were kept)
      sqlite3_reset(insert_version_.get());
      Bind(insert_version_, 1, row.id);
      sqlite3_bind_int64(insert_version_.get(), 2, row.version);
      Bind(insert_version_, 3, row.body);
      MEDTWIN_RETURN_IF_ERROR(Step(insert_version_));
    }
    result.observation_inserted.assign(batch.observations.size(), false);
    for (std::size_t i = 0; i < batch.observations.size(); ++i) {
      const auto& o = batch.observations[i];
      sqlite3_reset(insert_obs_.get());
      Bind(insert_obs_, 1, o.patient);
      Bind(insert_obs_, 2, o.code);
      sqlite3_bind_int64(insert_obs_.get(), 3, o.time.us_since_epoch);
      sqlite3_bind_double(insert_obs_.get(), 4, o.value);
      Bind(insert_obs_, 5, o.text);
      Bind(insert_obs_, 6, o.source);
      sqlite3_bind_int64(insert_obs_.get(), 7, result.committed_at.us_since_epoch);
      if (sqlite3_step(insert_obs_.get()) != SQLITE_DONE) return Fail("append observations");
      result.observation_inserted[i] = sqlite3_changes(db_) > 0;
    }
    result.event_inserted.assign(batch.events.size(), false);
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      const auto& e = batch.events[i];
      sqlite3_reset(insert_event_.get());
      Bind(insert_event_, 1, e.patient);
      sqlite3_bind_int64(insert_event_.get(), 2, e.time.us_since_epoch);
      Bind(insert_event_, 3, e.type);
      Bind(insert_event_, 4, e.source);
      Bind(insert_event_, 5, io::EventToJson(e).dump());
      if (sqlite3_step(insert_event_.get()) != SQLITE_DONE) return Fail("append events");
      result.event_inserted[i] = sqlite3_changes(db_) > 0;
    }
    return Ok{};
  }

  Result<ObservationPage> QueryObservations(const ObservationQuery& q) override {
    std::lock_guard<std::mutex> lock(mu_);
    // Keyset pagination on the primary key after the patient: the cursor is
    // "time_us:code:source" of the last item sent (code and source percent-free: ':' escaped).
    std::int64_t after_time = INT64_MIN;
    std::string after_code, after_source;
    if (!q.cursor.empty()) {
      const auto c1 = q.cursor.find(':');
      const auto c2 = c1 == std::string::npos ? c1 : q.cursor.find(':', c1 + 1);
      const auto time = c2 == std::string::npos
                            ? std::nullopt
                            : ParseInt64(std::string_view(q.cursor).substr(0, c1));
      if (!time) return InvalidArgument("cursor", "not a cursor this server gave out");
      after_time = *time;
      after_code = Unescape(q.cursor.substr(c1 + 1, c2 - c1 - 1));
      after_source = Unescape(q.cursor.substr(c2 + 1));
    }
    std::string sql =
        "SELECT patient, code, time_us, value, text, source, stored_us FROM observations "
        "WHERE patient = ?1 AND time_us >= ?2 AND time_us <= ?3 "
        "AND (time_us, code, source) > (?4, ?5, ?6)";
    if (!q.code.empty()) sql += " AND code = ?7";
    sql += " ORDER BY time_us, code, source LIMIT ?8";
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare(sql.c_str(), st));
    Bind(st, 1, q.patient);
    sqlite3_bind_int64(st.get(), 2, q.from ? q.from->us_since_epoch : INT64_MIN);
    sqlite3_bind_int64(st.get(), 3, q.to ? q.to->us_since_epoch : INT64_MAX);
    sqlite3_bind_int64(st.get(), 4, after_time);
    Bind(st, 5, after_code);
    Bind(st, 6, after_source);
    if (!q.code.empty()) Bind(st, 7, q.code);
    sqlite3_bind_int64(st.get(), 8, static_cast<std::int64_t>(q.limit) + 1);
    ObservationPage page;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      if (page.items.size() == q.limit) {
        const auto& last = page.items.back();
        page.next_cursor = std::to_string(last.time.us_since_epoch) + ":" + Escape(last.code) +
                           ":" + Escape(last.source);
        break;
      }
      page.items.push_back(Row(st, 0));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail("query observations");
    return page;
  }

  Status ForEachObservation(const std::function<void(const record::Observation&)>& visit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("SELECT patient, code, time_us, value, text, source, stored_us FROM observations "
                "ORDER BY patient, time_us, code, source",
                st));
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) visit(Row(st, 0));
    if (rc != SQLITE_DONE) return Fail("replay observations");
    return Ok{};
  }

  Result<std::vector<record::Event>> QueryEvents(const std::string& patient,
                                                 std::optional<Instant> from,
                                                 std::optional<Instant> to,
                                                 std::size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("SELECT body FROM events WHERE patient = ?1 AND time_us >= ?2 AND time_us <= ?3 "
                "ORDER BY time_us, type, source LIMIT ?4",
                st));
    Bind(st, 1, patient);
    sqlite3_bind_int64(st.get(), 2, from ? from->us_since_epoch : INT64_MIN);
    sqlite3_bind_int64(st.get(), 3, to ? to->us_since_epoch : INT64_MAX);
    sqlite3_bind_int64(st.get(), 4, static_cast<std::int64_t>(limit));
    std::vector<record::Event> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      MEDTWIN_TRY(record::Event e, EventFromStored(Text(st, 0)));
      out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return Fail("query events");
    return out;
  }

  Status ForEachEvent(const std::function<void(const record::Event&)>& visit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("SELECT body FROM events ORDER BY patient, time_us, type, source", st));
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      MEDTWIN_TRY(record::Event e, EventFromStored(Text(st, 0)));
      visit(e);
    }
    if (rc != SQLITE_DONE) return Fail("replay events");
    return Ok{};
  }

  Status AppendAudit(std::span<const AuditRow> rows) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare("INSERT INTO audit(seq, body) VALUES(?,?)", st));
    MEDTWIN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    for (const auto& row : rows) {
      sqlite3_reset(st.get());
      sqlite3_bind_int64(st.get(), 1, static_cast<std::int64_t>(row.seq));
      Bind(st, 2, row.text);
      if (sqlite3_step(st.get()) != SQLITE_DONE) {
        Error failure = Fail("append audit");
        (void)Exec("ROLLBACK");
        return failure;
      }
    }
    return Exec("COMMIT");
  }

  Status ForEachAudit(const std::function<void(const AuditRow&)>& visit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare("SELECT seq, body FROM audit ORDER BY seq", st));
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      visit({static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 0)), Text(st, 1)});
    }
    if (rc != SQLITE_DONE) return Fail("read audit");
    return Ok{};
  }

  Result<std::vector<AuditRow>> RecentAudit(std::size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare("SELECT seq, body FROM audit ORDER BY seq DESC LIMIT ?", st));
    sqlite3_bind_int64(st.get(), 1, static_cast<std::int64_t>(limit));
    std::vector<AuditRow> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      out.push_back({static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 0)), Text(st, 1)});
    }
    if (rc != SQLITE_DONE) return Fail("read audit");
    return out;
  }

  Result<std::optional<AuditRow>> AuditRecord(std::uint64_t seq) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare("SELECT seq, body FROM audit WHERE seq = ?", st));
    sqlite3_bind_int64(st.get(), 1, static_cast<std::int64_t>(seq));
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return std::optional<AuditRow>();
    if (rc != SQLITE_ROW) return Fail("read audit");
    return std::optional<AuditRow>(
        AuditRow{static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 0)), Text(st, 1)});
  }

  Status AppendTreeHead(const TreeHeadRow& head) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare(
        "INSERT OR REPLACE INTO audit_heads(size, root, time_us, signature) VALUES(?,?,?,?)", st));
    sqlite3_bind_int64(st.get(), 1, static_cast<std::int64_t>(head.size));
    Bind(st, 2, head.root_hex);
    sqlite3_bind_int64(st.get(), 3, head.time_us);
    Bind(st, 4, head.signature_hex);
    return Step(st);
  }

  Result<std::vector<TreeHeadRow>> TreeHeads() override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("SELECT size, root, time_us, signature FROM audit_heads ORDER BY size", st));
    std::vector<TreeHeadRow> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      out.push_back({static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 0)), Text(st, 1),
                     sqlite3_column_int64(st.get(), 2), Text(st, 3)});
    }
    if (rc != SQLITE_DONE) return Fail("read tree heads");
    return out;
  }

  Status SaveTrial(const std::string& id, std::int64_t saved_us, const std::string& body) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("INSERT OR REPLACE INTO trials(id, saved_us, body) VALUES(?,?,?)", st));
    Bind(st, 1, id);
    sqlite3_bind_int64(st.get(), 2, saved_us);
    Bind(st, 3, body);
    return Step(st);
  }

  Result<std::vector<std::string>> RecentTrials(std::size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("SELECT body FROM trials ORDER BY saved_us DESC, id DESC LIMIT ?", st));
    sqlite3_bind_int64(st.get(), 1, static_cast<std::int64_t>(limit));
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.push_back(Text(st, 0));
    if (rc != SQLITE_DONE) return Fail("read trials");
    return out;
  }

  Status SaveLocation(const std::string& id, const std::string& body) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare("INSERT OR REPLACE INTO locations(id, body) VALUES(?,?)", st));
    Bind(st, 1, id);
    Bind(st, 2, body);
    return Step(st);
  }

  Result<std::vector<std::string>> LoadLocations() override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare("SELECT body FROM locations ORDER BY id", st));
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.push_back(Text(st, 0));
    if (rc != SQLITE_DONE) return Fail("read locations");
    return out;
  }

  Status RevokeToken(const std::string& jti, std::int64_t revoked_us,
                     std::int64_t expires_s) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare(
        "INSERT OR IGNORE INTO revoked_tokens(jti, revoked_us, expires_s) VALUES(?,?,?)", st));
    Bind(st, 1, jti);
    sqlite3_bind_int64(st.get(), 2, revoked_us);
    sqlite3_bind_int64(st.get(), 3, expires_s);
    return Step(st);
  }

  Result<std::vector<std::string>> RevokedTokens(std::int64_t now_s) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare("SELECT jti FROM revoked_tokens WHERE expires_s > ?", st));
    sqlite3_bind_int64(st.get(), 1, now_s);
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.push_back(Text(st, 0));
    if (rc != SQLITE_DONE) return Fail("read revoked tokens");
    return out;
  }

  Status CheckWritable(std::int64_t now_us) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(
        Prepare("INSERT OR REPLACE INTO health(id, checked_us) VALUES(1, ?)", st));
    sqlite3_bind_int64(st.get(), 1, now_us);
    return Step(st);
  }

  Result<std::size_t> CountObservations() override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement st;
    MEDTWIN_RETURN_IF_ERROR(Prepare("SELECT count(*) FROM observations", st));
    if (sqlite3_step(st.get()) != SQLITE_ROW) return Fail("count");
    return static_cast<std::size_t>(sqlite3_column_int64(st.get(), 0));
  }

 private:
  Status Exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string m = message != nullptr ? message : "error";
      sqlite3_free(message);
      return Error{ErrorCode::kIoError, "store", "sqlite: " + m};
    }
    return Ok{};
  }
  Status Prepare(const char* sql, Statement& st) {
    if (sqlite3_prepare_v2(db_, sql, -1, st.out(), nullptr) != SQLITE_OK) return Fail("prepare");
    return Ok{};
  }
  Status Step(Statement& st) {
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Fail("write");
    return Ok{};
  }
  Error Fail(const char* what) {
    return Error{ErrorCode::kIoError, "store",
                 std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_)};
  }
  static void Bind(Statement& st, int i, const std::string& s) {
    sqlite3_bind_text(st.get(), i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  static std::string Text(Statement& st, int col) {
    const auto* p = sqlite3_column_text(st.get(), col);
    return p != nullptr ? std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(st.get(), col)))
                        : std::string();
  }
  // ':' and '%' in codes and sources are escaped so the cursor splits unambiguously.
  static std::string Escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '%') {
        out += "%25";
      } else if (c == ':') {
        out += "%3A";
      } else {
        out += c;
      }
    }
    return out;
  }
  static std::string Unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && s.compare(i, 3, "%25") == 0) {
        out += '%';
        i += 2;
      } else if (s[i] == '%' && s.compare(i, 3, "%3A") == 0) {
        out += ':';
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }
  static record::Observation Row(Statement& st, int first) {
    record::Observation o;
    o.patient = Text(st, first);
    o.code = Text(st, first + 1);
    o.time.us_since_epoch = sqlite3_column_int64(st.get(), first + 2);
    o.value = sqlite3_column_double(st.get(), first + 3);
    o.text = Text(st, first + 4);
    o.source = Text(st, first + 5);
    o.stored_at.us_since_epoch = sqlite3_column_int64(st.get(), first + 6);
    return o;
  }

  sqlite3* db_;
  std::mutex mu_;
  std::mutex group_mu_;
  std::condition_variable group_cv_;
  std::vector<Pending*> queue_;
  bool writer_busy_ = false;
  Statement insert_obs_, upsert_patient_, insert_version_, insert_event_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& spec) {
  // "PATH" or "PATH?sync=full|normal".
  std::string path = spec;
  bool power_safe = true;
  if (const auto q = spec.find('?'); q != std::string::npos) {
    path = spec.substr(0, q);
    const std::string option = spec.substr(q + 1);
    if (option == "sync=normal") {
      power_safe = false;
    } else if (option != "sync=full") {
      return InvalidArgument("--store",
                             "sqlite option '" + option + "': use sync=full or sync=normal");
    }
  }
  // Patient data: the database (and the WAL and shared-memory files SQLite creates with the
  // database's mode) readable by the server's user only.
  if (path != ":memory:" && !path.empty() && !path.starts_with("file:")) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) ::close(fd);
    } else if ((st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0600) == 0) {
      std::fprintf(stderr, "medtwin: %s was readable by others: now mode 0600\n", path.c_str());
    }
  }
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string m = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{ErrorCode::kIoError, "--store", "cannot open sqlite:" + path + ": " + m};
  }
  auto store = std::make_unique<SqliteStore>(db);
  MEDTWIN_RETURN_IF_ERROR(store->Init(power_safe));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace medtwin::store
