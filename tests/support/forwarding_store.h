// A store that hands every call to a real one: tests derive from it to hold, fail or count
// one kind of call (a commit held at a gate, a commit that fails) and keep the rest real.
#pragma once

#include <memory>

#include "medtwin/store/store.h"

namespace medtwin::testing_support {

class ForwardingStore : public store::Store {
 public:
  explicit ForwardingStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}
  std::string_view Kind() const override { return inner_->Kind(); }
  Status Commit(const store::WriteBatch& batch, store::WriteBatchResult* result) override {
    return inner_->Commit(batch, result);
  }
  Result<std::vector<store::PatientRow>> LoadPatients() override { return inner_->LoadPatients(); }
  Result<std::vector<store::PatientRow>> PatientVersions(const std::string& id) override {
    return inner_->PatientVersions(id);
  }
  Result<store::ObservationPage> QueryObservations(const store::ObservationQuery& q) override {
    return inner_->QueryObservations(q);
  }
  Status ForEachObservation(const std::function<void(const record::Observation&)>& v) override {
    return inner_->ForEachObservation(v);
  }
  Result<std::size_t> CountObservations() override { return inner_->CountObservations(); }
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

 protected:
  store::Store& inner() { return *inner_; }

 private:
  std::unique_ptr<store::Store> inner_;
};

}  // namespace medtwin::testing_support
