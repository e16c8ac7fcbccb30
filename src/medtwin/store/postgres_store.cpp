// PostgreSQL backend (libpq): one connection behind a mutex; a batch is one INSERT of unnested
// arrays with ON CONFLICT DO NOTHING, committed before the call returns (synchronous_commit is
// the server's, on by default).
#include <libpq-fe.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <type_traits>

#include "medtwin/core/text.h"
#include "medtwin/core/time.h"
#include "medtwin/store/store.h"

namespace medtwin::store {
namespace {

// A number PostgreSQL returned in a cell: its column type guarantees one, and a cell that is
// not is reported as a store error, never thrown.
template <typename T>
Result<T> NumberCell(PGresult* r, int row, int col) {
  const char* text = PQgetvalue(r, row, col);
  std::optional<T> v;
  if constexpr (std::is_same_v<T, double>) {
    v = ParseDouble(text);
  } else if constexpr (std::is_unsigned_v<T>) {
    v = ParseUint64(text);
  } else {
    v = ParseInt64(text);
  }
  if (!v) {
    return Error{ErrorCode::kIoError, "store",
                 "postgresql returned '" + Printable(text, 40) + "' in row " + std::to_string(row) +
                     ", column " + std::to_string(col) + ", where a number belongs"};
  }
  return *v;
}

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
);
CREATE TABLE IF NOT EXISTS observations(
  id BIGSERIAL PRIMARY KEY,
  patient TEXT NOT NULL,
  code TEXT NOT NULL,
  time_us BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  text TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  stored_us BIGINT NOT NULL DEFAULT 0,
  UNIQUE(patient, code, time_us, source)
);
ALTER TABLE observations ADD COLUMN IF NOT EXISTS stored_us BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS observations_by_patient_time ON observations(patient, time_us, id);
CREATE TABLE IF NOT EXISTS events(
  patient TEXT NOT NULL,
  time_us BIGINT NOT NULL,
  type TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  PRIMARY KEY(patient, time_us, type, source)
);
CREATE TABLE IF NOT EXISTS audit(
  seq BIGINT PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_heads(
  size BIGINT PRIMARY KEY,
  root TEXT NOT NULL,
  time_us BIGINT NOT NULL,
  signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials(
  id TEXT PRIMARY KEY,
  saved_us BIGINT NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS locations(
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_tokens(
  jti TEXT PRIMARY KEY,
  revoked_us BIGINT NOT NULL,
  expires_s BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS health(
  id INTEGER PRIMARY KEY,
  checked_us BIGINT NOT NULL
);
)sql";

struct ResultGuard {
  PGresult* r;
  ~ResultGuard() { PQclear(r); }
};

// An element of a PostgreSQL array literal: quoted, with " and \ escaped.
void AppendArrayText(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(PGconn* conn) : conn_(conn) {}
  ~PostgresStore() override { PQfinish(conn_); }
  std::string_view Kind() const override { return "postgresql"; }

  Status Commit(const WriteBatch& batch, WriteBatchResult* result) override {
    std::lock_guard<std::mutex> lock(mu_);
    WriteBatchResult scratch;
    WriteBatchResult& out = result != nullptr ? *result : scratch;
    out.observation_inserted.assign(batch.observations.size(), false);
    out.event_inserted.assign(batch.events.size(), false);
    Status s = CommitLocked(batch, out);
    if (!s.ok()) {  // nothing of it was stored (or, with the answer to COMMIT lost, unknown)
      out.observation_inserted.assign(batch.observations.size(), false);
      out.event_inserted.assign(batch.events.size(), false);
      // Never leave the session inside a transaction the next batch would silently join.
      if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
        ResultGuard rb{PQexec(conn_, "ROLLBACK")};
        if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQreset(conn_);
      }
    }
    return s;
  }

  Result<std::vector<PatientRow>> PatientVersions(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const char* params[] = {id.c_str()};
    ResultGuard r{PQexecParams(conn_,
                               "SELECT id, body, version FROM patient_versions WHERE id = $1 "
                               "ORDER BY version DESC",
                               1, nullptr, params, nullptr, nullptr, 0)};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "patient versions"));
    std::vector<PatientRow> out;
    for (int i = 0; i < PQntuples(r.r); ++i) {
      out.push_back(
          {PQgetvalue(r.r, i, 0), PQgetvalue(r.r, i, 1), std::atoi(PQgetvalue(r.r, i, 2))});
    }
    return out;
  }

  Result<std::vector<PatientRow>> LoadPatients() override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    ResultGuard r{PQexec(conn_, "SELECT id, body FROM patients ORDER BY id")};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "load patients"));
    std::vector<PatientRow> out;
    for (int i = 0; i < PQntuples(r.r); ++i) {
      out.push_back({PQgetvalue(r.r, i, 0), PQgetvalue(r.r, i, 1)});
    }
    return out;
  }

  Result<ObservationPage> QueryObservations(const ObservationQuery& q) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    std::int64_t after_time = INT64_MIN, after_id = INT64_MIN;
    if (!q.cursor.empty()) {
      const auto colon = q.cursor.find(':');
      const std::string_view c = q.cursor;
      const auto time = colon == std::string::npos ? std::nullopt : ParseInt64(c.substr(0, colon));
      const auto id = colon == std::string::npos ? std::nullopt : ParseInt64(c.substr(colon + 1));
      if (!time || !id) return InvalidArgument("cursor", "not a cursor this server gave out");
      after_time = *time;
      after_id = *id;
    }
    const std::string from = std::to_string(q.from ? q.from->us_since_epoch : INT64_MIN);
    const std::string to = std::to_string(q.to ? q.to->us_since_epoch : INT64_MAX);
    const std::string at = std::to_string(after_time), ai = std::to_string(after_id);
    const std::string limit = std::to_string(q.limit + 1);
    std::string sql =
        "SELECT id, patient, code, time_us, value, text, source, stored_us FROM observations "
        "WHERE patient = $1 AND time_us >= $2 AND time_us <= $3 "
        "AND (time_us > $4 OR (time_us = $4 AND id > $5)) AND ($6 = '' OR code = $6) "
        "ORDER BY time_us, id LIMIT $7";
    const char* params[] = {q.patient.c_str(), from.c_str(),   to.c_str(),   at.c_str(),
                            ai.c_str(),        q.code.c_str(), limit.c_str()};
    ResultGuard r{PQexecParams(conn_, sql.c_str(), 7, nullptr, params, nullptr, nullptr, 0)};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "query observations"));
    ObservationPage page;
    const int n = PQntuples(r.r);
    for (int i = 0; i < n; ++i) {
      if (page.items.size() == q.limit) {
        page.next_cursor =
            std::to_string(page.items.back().time.us_since_epoch) + ":" + PQgetvalue(r.r, i - 1, 0);
        break;
      }
      MEDTWIN_TRY(record::Observation o, Row(r.r, i));
      page.items.push_back(std::move(o));
    }
    return page;
  }

  Status ForEachObservation(const std::function<void(const record::Observation&)>& visit) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    ResultGuard r{PQexec(
        conn_,
        "SELECT id, patient, code, time_us, value, text, source, stored_us FROM observations "
        "ORDER BY patient, time_us, id")};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "replay observations"));
    for (int i = 0; i < PQntuples(r.r); ++i) {
      MEDTWIN_TRY(const record::Observation o, Row(r.r, i));
      visit(o);
    }
    return Ok{};
  }

  Result<std::size_t> CountObservations() override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    ResultGuard r{PQexec(conn_, "SELECT count(*) FROM observations")};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "count"));
    MEDTWIN_TRY(const std::int64_t count, NumberCell<std::int64_t>(r.r, 0, 0));
    return static_cast<std::size_t>(count);
  }

  Result<std::vector<record::Event>> QueryEvents(const std::string& patient,
                                                 std::optional<Instant> from,
                                                 std::optional<Instant> to,
                                                 std::size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const std::string f = std::to_string(from ? from->us_since_epoch : INT64_MIN);
    const std::string t = std::to_string(to ? to->us_since_epoch : INT64_MAX);
    const std::string l = std::to_string(limit);
    const char* params[] = {patient.c_str(), f.c_str(), t.c_str(), l.c_str()};
    ResultGuard r{PQexecParams(conn_,
                               "SELECT body FROM events WHERE patient = $1 AND time_us >= $2 AND "
                               "time_us <= $3 ORDER BY time_us, type, source LIMIT $4",
                               4, nullptr, params, nullptr, nullptr, 0)};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "query events"));
    std::vector<record::Event> out;
    for (int i = 0; i < PQntuples(r.r); ++i) {
      MEDTWIN_TRY(record::Event e, EventFromStored(PQgetvalue(r.r, i, 0)));
      out.push_back(std::move(e));
    }
    return out;
  }

  Status ForEachEvent(const std::function<void(const record::Event&)>& visit) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    ResultGuard r{PQexec(conn_, "SELECT body FROM events ORDER BY patient, time_us, type, source")};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "replay events"));
    for (int i = 0; i < PQntuples(r.r); ++i) {
      MEDTWIN_TRY(record::Event e, EventFromStored(PQgetvalue(r.r, i, 0)));
      visit(e);
    }
    return Ok{};
  }

  Status AppendAudit(std::span<const AuditRow> rows) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    ResultGuard begin{PQexec(conn_, "BEGIN")};
    MEDTWIN_RETURN_IF_ERROR(Check(begin.r, "begin"));
    for (const auto& row : rows) {
      const std::string seq = std::to_string(row.seq);
      const char* params[] = {seq.c_str(), row.text.c_str()};
      // A retry after a COMMIT whose answer was lost finds its rows already there: the same
      // text is success, other text at that seq is an error (never overwritten).
      ResultGuard r{PQexecParams(conn_,
                                 "INSERT INTO audit(seq, body) VALUES($1,$2) ON CONFLICT (seq) DO "
                                 "NOTHING RETURNING seq",
                                 2, nullptr, params, nullptr, nullptr, 0)};
      Status s = Check(r.r, "append audit");
      if (s.ok() && PQntuples(r.r) == 0) {
        ResultGuard existing{PQexecParams(conn_, "SELECT body FROM audit WHERE seq = $1", 1,
                                          nullptr, params, nullptr, nullptr, 0)};
        s = Check(existing.r, "append audit");
        if (s.ok() && (PQntuples(existing.r) != 1 || row.text != PQgetvalue(existing.r, 0, 0))) {
          s = Error{ErrorCode::kIoError, "store",
                    "audit record " + seq + " is already stored with other content"};
        }
      }
      if (!s.ok()) {
        ResultGuard rb{PQexec(conn_, "ROLLBACK")};
        return s.error();
      }
    }
    ResultGuard commit{PQexec(conn_, "COMMIT")};
    return Check(commit.r, "commit");
  }

  Status ForEachAudit(const std::function<void(const AuditRow&)>& visit) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    ResultGuard r{PQexec(conn_, "SELECT seq, body FROM audit ORDER BY seq")};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "read audit"));
    for (int i = 0; i < PQntuples(r.r); ++i) {
      MEDTWIN_TRY(const std::uint64_t seq, NumberCell<std::uint64_t>(r.r, i, 0));
      visit({seq, PQgetvalue(r.r, i, 1)});
    }
    return Ok{};
  }

  Result<std::vector<AuditRow>> RecentAudit(std::size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const std::string l = std::to_string(limit);
    const char* params[] = {l.c_str()};
    ResultGuard r{PQexecParams(conn_, "SELECT seq, body FROM audit ORDER BY seq DESC LIMIT $1", 1,
                               nullptr, params, nullptr, nullptr, 0)};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "read audit"));
    std::vector<AuditRow> out;
    for (int i = 0; i < PQntuples(r.r); ++i) {
      MEDTWIN_TRY(const std::uint64_t seq, NumberCell<std::uint64_t>(r.r, i, 0));
      out.push_back({seq, PQgetvalue(r.r, i, 1)});
    }
    return out;
  }

  Result<std::optional<AuditRow>> AuditRecord(std::uint64_t seq) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const std::string n = std::to_string(seq);
    const char* params[] = {n.c_str()};
    ResultGuard r{PQexecParams(conn_, "SELECT seq, body FROM audit WHERE seq = $1", 1, nullptr,
                               params, nullptr, nullptr, 0)};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "read audit"));
    if (PQntuples(r.r) == 0) return std::optional<AuditRow>();
    MEDTWIN_TRY(const std::uint64_t found, NumberCell<std::uint64_t>(r.r, 0, 0));
    return std::optional<AuditRow>(AuditRow{found, PQgetvalue(r.r, 0, 1)});
  }

  Status AppendTreeHead(const TreeHeadRow& head) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const std::string size = std::to_string(head.size), t = std::to_string(head.time_us);
    const char* params[] = {size.c_str(), head.root_hex.c_str(), t.c_str(),
                            head.signature_hex.c_str()};
    ResultGuard r{PQexecParams(conn_,
                               "INSERT INTO audit_heads(size, root, time_us, signature) "
                               "VALUES($1,$2,$3,$4) ON CONFLICT(size) DO UPDATE SET "
                               "root = excluded.root, time_us = excluded.time_us, "
                               "signature = excluded.signature",
                               4, nullptr, params, nullptr, nullptr, 0)};
    return Check(r.r, "append tree head");
  }

  Result<std::vector<TreeHeadRow>> TreeHeads() override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    ResultGuard r{
        PQexec(conn_, "SELECT size, root, time_us, signature FROM audit_heads ORDER BY size")};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "read tree heads"));
    std::vector<TreeHeadRow> out;
    for (int i = 0; i < PQntuples(r.r); ++i) {
      MEDTWIN_TRY(const std::uint64_t size, NumberCell<std::uint64_t>(r.r, i, 0));
      MEDTWIN_TRY(const std::int64_t time_us, NumberCell<std::int64_t>(r.r, i, 2));
      out.push_back({size, PQgetvalue(r.r, i, 1), time_us, PQgetvalue(r.r, i, 3)});
    }
    return out;
  }

  Status SaveTrial(const std::string& id, std::int64_t saved_us, const std::string& body) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const std::string t = std::to_string(saved_us);
    const char* params[] = {id.c_str(), t.c_str(), body.c_str()};
    ResultGuard r{PQexecParams(conn_,
                               "INSERT INTO trials(id, saved_us, body) VALUES($1,$2,$3) "
                               "ON CONFLICT(id) DO UPDATE SET saved_us = excluded.saved_us, "
                               "body = excluded.body",
                               3, nullptr, params, nullptr, nullptr, 0)};
    return Check(r.r, "save trial");
  }

  Result<std::vector<std::string>> RecentTrials(std::size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const std::string n = std::to_string(limit);
    const char* params[] = {n.c_str()};
    ResultGuard r{PQexecParams(conn_,
                               "SELECT body FROM trials ORDER BY saved_us DESC, id DESC LIMIT $1",
                               1, nullptr, params, nullptr, nullptr, 0)};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "read trials"));
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r.r); ++i) out.emplace_back(PQgetvalue(r.r, i, 0));
    return out;
  }

  Status SaveLocation(const std::string& id, const std::string& body) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const char* params[] = {id.c_str(), body.c_str()};
    ResultGuard r{PQexecParams(conn_,
                               "INSERT INTO locations(id, body) VALUES($1,$2) "
                               "ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                               2, nullptr, params, nullptr, nullptr, 0)};
    return Check(r.r, "save location");
  }

  Result<std::vector<std::string>> LoadLocations() override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    ResultGuard r{PQexec(conn_, "SELECT body FROM locations ORDER BY id")};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "read locations"));
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r.r); ++i) out.emplace_back(PQgetvalue(r.r, i, 0));
    return out;
  }

  Status RevokeToken(const std::string& jti, std::int64_t revoked_us,
                     std::int64_t expires_s) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const std::string r_us = std::to_string(revoked_us), e_s = std::to_string(expires_s);
    const char* params[] = {jti.c_str(), r_us.c_str(), e_s.c_str()};
    ResultGuard r{PQexecParams(conn_,
                               "INSERT INTO revoked_tokens(jti, revoked_us, expires_s) "
                               "VALUES($1,$2,$3) ON CONFLICT(jti) DO NOTHING",
                               3, nullptr, params, nullptr, nullptr, 0)};
    return Check(r.r, "revoke token");
  }

  Result<std::vector<std::string>> RevokedTokens(std::int64_t now_s) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const std::string n = std::to_string(now_s);
    const char* params[] = {n.c_str()};
    ResultGuard r{PQexecParams(conn_, "SELECT jti FROM revoked_tokens WHERE expires_s > $1", 1,
                               nullptr, params, nullptr, nullptr, 0)};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "read revoked tokens"));
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r.r); ++i) out.emplace_back(PQgetvalue(r.r, i, 0));
    return out;
  }

  Status CheckWritable(std::int64_t now_us) override {
    std::lock_guard<std::mutex> lock(mu_);
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    const std::string t = std::to_string(now_us);
    const char* params[] = {t.c_str()};
    ResultGuard r{PQexecParams(conn_,
                               "INSERT INTO health(id, checked_us) VALUES(1,$1) "
                               "ON CONFLICT(id) DO UPDATE SET checked_us = excluded.checked_us",
                               1, nullptr, params, nullptr, nullptr, 0)};
    return Check(r.r, "write check");
  }

  Status CheckSchema() {
    ResultGuard quiet{PQexec(conn_, "SET client_min_messages = warning")};
    ResultGuard r{PQexec(conn_, kSchema)};
    return Check(r.r, "create schema");
  }

 private:
  // One INSERT … SELECT FROM unnest(arrays): a batch of readings in one round trip.
  Status InsertObservations(std::span<const record::Observation> items, std::vector<bool>& inserted,
                            Instant stored_at) {
    if (items.empty()) return Ok{};
    const std::string stored_us = std::to_string(stored_at.us_since_epoch);
    std::string arrays[6];
    for (auto& a : arrays) a = "{";
    char num[64];
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& o = items[i];
      if (i > 0) {
        for (auto& a : arrays) a += ',';
      }
      AppendArrayText(arrays[0], o.patient);
      AppendArrayText(arrays[1], o.code);
      arrays[2] += std::to_string(o.time.us_since_epoch);
      std::snprintf(num, sizeof num, "%.17g", o.value);
      arrays[3] += num;
      AppendArrayText(arrays[4], o.text);
      AppendArrayText(arrays[5], o.source);
    }
    for (auto& a : arrays) a += '}';
    const char* params[7];
    for (int k = 0; k < 6; ++k) params[k] = arrays[k].c_str();
    params[6] = stored_us.c_str();
    ResultGuard r{PQexecParams(
        conn_,
        "INSERT INTO observations(patient, code, time_us, value, text, source, stored_us) "
        "SELECT *, $7::bigint FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[], "
        "$5::text[], $6::text[]) ON CONFLICT DO NOTHING RETURNING patient, code, time_us, source",
        7, nullptr, params, nullptr, nullptr, 0)};
    MEDTWIN_RETURN_IF_ERROR(Check(r.r, "append observations"));
    const int n = PQntuples(r.r);
    std::set<std::tuple<std::string, std::string, std::int64_t, std::string>> fresh;
    for (int i = 0; i < n; ++i) {
      MEDTWIN_TRY(const std::int64_t time_us, NumberCell<std::int64_t>(r.r, i, 2));
      fresh.insert({PQgetvalue(r.r, i, 0), PQgetvalue(r.r, i, 1), time_us, PQgetvalue(r.r, i, 3)});
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto key = std::make_tuple(items[i].patient, items[i].code,
                                       items[i].time.us_since_epoch, items[i].source);
      auto it = fresh.find(key);
      if (it != fresh.end()) {
        inserted[i] = true;
        fresh.erase(it);  // a duplicate within the batch counts once
      }
    }
    return Ok{};
  }

  // Every part of a batch, inside an open transaction.
  Status WriteRows(const WriteBatch& batch, WriteBatchResult& out) {
    for (const PatientRow& row : batch.patients) {
      const std::string version = std::to_string(row.version);
      const char* params[] = {row.id.c_str(), row.body.c_str(), version.c_str()};
      ResultGuard r{PQexecParams(
          conn_,
          row.version > 0
              ? "WITH current AS (INSERT INTO patients(id, body) VALUES($1,$2) "
                "ON CONFLICT(id) DO UPDATE SET body = excluded.body RETURNING id) "
                "INSERT INTO patient_versions(id, version, body) VALUES($1,$3::integer,$2) "
                "ON CONFLICT(id, version) DO UPDATE SET body = excluded.body"
              : "INSERT INTO patients(id, body) VALUES($1,$2) "
                "ON CONFLICT(id) DO UPDATE SET body = excluded.body",
          row.version > 0 ? 3 : 2, nullptr, params, nullptr, nullptr, 0)};
      MEDTWIN_RETURN_IF_ERROR(Check(r.r, "upsert patient"));
    }
    MEDTWIN_RETURN_IF_ERROR(
        InsertObservations(batch.observations, out.observation_inserted, out.committed_at));
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      const auto& e = batch.events[i];
      const std::string t = std::to_string(e.time.us_since_epoch);
      const std::string body = io::EventToJson(e).dump();
      const char* params[] = {e.patient.c_str(), t.c_str(), e.type.c_str(), e.source.c_str(),
                              body.c_str()};
      ResultGuard r{PQexecParams(conn_,
                                 "INSERT INTO events(patient, time_us, type, source, body) "
                                 "VALUES($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
                                 5, nullptr, params, nullptr, nullptr, 0)};
      MEDTWIN_RETURN_IF_ERROR(Check(r.r, "append events"));
      out.event_inserted[i] = std::string(PQcmdTuples(r.r)) == "1";
    }
    return Ok{};
  }

  Status CommitLocked(const WriteBatch& batch, WriteBatchResult& out) {
    MEDTWIN_RETURN_IF_ERROR(EnsureConnected());
    out.committed_at = WallClockNow();
    // One statement is its own transaction: readings alone (the common batch) need no BEGIN.
    const bool one_statement = batch.patients.empty() && batch.events.empty();
    if (one_statement) {
      return InsertObservations(batch.observations, out.observation_inserted, out.committed_at);
    }
    ResultGuard begin{PQexec(conn_, "BEGIN")};
    MEDTWIN_RETURN_IF_ERROR(Check(begin.r, "begin"));
    MEDTWIN_RETURN_IF_ERROR(WriteRows(batch, out));
    ResultGuard commit{PQexec(conn_, "COMMIT")};
    MEDTWIN_RETURN_IF_ERROR(Check(commit.r, "commit"));
    // A COMMIT in a failed transaction answers ROLLBACK, not an error.
    if (std::string_view(PQcmdStatus(commit.r)) != "COMMIT") {
      return Error{ErrorCode::kIoError, "store", "postgresql commit: rolled back"};
    }
    return Ok{};
  }

  // A lost connection (PostgreSQL restarted, network cut) is re-established here, before each
  // call, with exponential backoff from 250 ms to 5 s between attempts; meanwhile calls fail at
  // once with kIoError (the API answers 503 with Retry-After), never with a false success.
  Status EnsureConnected() {
    if (PQstatus(conn_) == CONNECTION_OK) return Ok{};
    const auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_) {
      return Error{ErrorCode::kIoError, "store", "no connection to PostgreSQL (reconnecting)"};
    }
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) {
      backoff_ = std::chrono::milliseconds(250);
      std::fprintf(stderr, "medtwin: reconnected to PostgreSQL\n");
      ResultGuard quiet{PQexec(conn_, "SET client_min_messages = warning")};
      return Ok{};
    }
    next_attempt_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
    return Error{ErrorCode::kIoError, "store", "no connection to PostgreSQL (reconnecting)"};
  }

  Status Check(PGresult* r, const char* what) {
    const auto status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Ok{};
    return Error{ErrorCode::kIoError, "store",
                 std::string("postgresql ") + what + ": " + PQerrorMessage(conn_)};
  }
  static Result<record::Observation> Row(PGresult* r, int i) {
    record::Observation o;
    o.patient = PQgetvalue(r, i, 1);
    o.code = PQgetvalue(r, i, 2);
    MEDTWIN_TRY(o.time.us_since_epoch, NumberCell<std::int64_t>(r, i, 3));
    MEDTWIN_TRY(o.value, NumberCell<double>(r, i, 4));
    o.text = PQgetvalue(r, i, 5);
    o.source = PQgetvalue(r, i, 6);
    MEDTWIN_TRY(o.stored_at.us_since_epoch, NumberCell<std::int64_t>(r, i, 7));
    return o;
  }

  PGconn* conn_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{250};
};

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& given) {
  // A bound on every (re)connection, so a network that drops packets yields a quick error (and
  // a 503) rather than a request thread held for minutes.
  std::string conninfo = given;
  if (conninfo.find("connect_timeout") == std::string::npos) {
    if (conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://")) {
      conninfo +=
          conninfo.find('?') == std::string::npos ? "?connect_timeout=5" : "&connect_timeout=5";
    } else {
      conninfo += " connect_timeout=5";
    }
  }
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    // The message may carry the connection string's host and user, never data.
    std::string m = PQerrorMessage(conn);
    PQfinish(conn);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return Error{ErrorCode::kIoError, "--store", "cannot connect to PostgreSQL: " + m};
  }
  auto store = std::make_unique<PostgresStore>(conn);
  MEDTWIN_RETURN_IF_ERROR(store->CheckSchema());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace medtwin::store
