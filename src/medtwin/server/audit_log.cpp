#include "medtwin/server/audit_log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace medtwin::server {
namespace {

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(store::Store& store,
                                                 const security::SigningKey& secret) {
  MEDTWIN_TRY(auto key, security::AuditSigningKey(secret));
  std::unique_ptr<AuditLog> log(new AuditLog(store, std::move(key)));
  // Continue the tree where the stored ledger ends.
  MEDTWIN_RETURN_IF_ERROR(store.ForEachAudit(
      [&](const store::Store::AuditRow& row) { log->tree_.Append(security::LeafHash(row.text)); }));
  log->recorded_ = log->stored_ = log->tree_.size();
  MEDTWIN_TRY(auto heads, store.TreeHeads());
  if (!heads.empty()) log->signed_size_ = heads.back().size;
  log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void AuditLog::Record(security::AuditEntry entry) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(entry));
    ++recorded_;
  }
  cv_.notify_one();
}

void AuditLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const std::uint64_t mine = ++flush_requests_;
  cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return flushes_done_ >= mine || stopping_; });
}

std::uint64_t AuditLog::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return stored_;
}

Status AuditLog::SignHead() {
  const std::int64_t now = NowUs();
  const security::Hash root = tree_.Root();
  MEDTWIN_TRY(std::string sig,
              security::Ed25519Sign(key_, security::TreeHeadMessage(tree_.size(), root, now)));
  MEDTWIN_RETURN_IF_ERROR(
      store_.AppendTreeHead({tree_.size(), security::ToHex(root), now, security::ToHex(sig)}));
  signed_size_ = tree_.size();
  return Ok{};
}

void AuditLog::WriterLoop() {
  auto last_head = std::chrono::steady_clock::now();
  for (;;) {
    std::vector<security::AuditEntry> batch;
    bool stopping = false, flush = false;
    std::uint64_t flush_upto = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(20), [&] {
        return stopping_ || flush_requests_ > flushes_done_ || queue_.size() >= 4096;
      });
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
      stopping = stopping_;
      flush_upto = flush_requests_;
      flush = flush_upto > flushes_done_;
    }
    if (!batch.empty()) {
      std::vector<store::Store::AuditRow> rows;
      rows.reserve(batch.size());
      for (const auto& e : batch) {
        const std::uint64_t seq = tree_.size();
        std::string text = security::AuditRecordText(e, seq, tree_.Root());
        tree_.Append(security::LeafHash(text));
        rows.push_back({seq, std::move(text)});
      }
      if (Status s = store_.AppendAudit(rows); !s.ok()) {
        // The store refused: the records stay out of the tree too (no gap in the ledger).
        std::fprintf(stderr, "medtwin: audit records not stored: %s\n",
                     s.error().ToString().c_str());
        security::MerkleFrontier rebuilt;
        (void)store_.ForEachAudit([&](const store::Store::AuditRow& row) {
          rebuilt.Append(security::LeafHash(row.text));
        });
        tree_ = rebuilt;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (tree_.size() > signed_size_ &&
        (stopping || flush || now - last_head >= std::chrono::seconds(1))) {
      if (Status s = SignHead(); !s.ok()) {
        std::fprintf(stderr, "medtwin: audit tree head not stored: %s\n",
                     s.error().ToString().c_str());
      }
      last_head = now;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stored_ = tree_.size();
      flushes_done_ = std::max(flushes_done_, flush_upto);
    }
    flushed_cv_.notify_all();
    if (stopping) {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) return;
    }
  }
}

}  // namespace medtwin::server

#include "medtwin/server/service.h"

namespace medtwin::server {

Result<StoredLedger> ReadStoredLedger(store::Store& store) {
  StoredLedger l;
  MEDTWIN_RETURN_IF_ERROR(
      store.ForEachAudit([&](const store::Store::AuditRow& r) { l.records.push_back(r); }));
  MEDTWIN_TRY(l.heads, store.TreeHeads());
  return l;
}

nlohmann::json VerifyStoredLedger(store::Store& store, const std::string& public_key) {
  auto ledger = ReadStoredLedger(store);
  if (!ledger.ok()) {
    return {{"ok", false}, {"problem", "the ledger cannot be read from the store"}};
  }
  const security::LedgerReport r =
      security::VerifyLedger(ledger->records, ledger->heads, public_key);
  nlohmann::json out = {{"ok", r.ok},
                        {"records", r.records},
                        {"tree_heads_checked", r.heads_checked},
                        {"tree_heads", ledger->heads.size()},
                        {"root", security::ToHex(r.root)}};
  if (!r.ok) {
    out["first_bad_record"] = r.first_bad_seq ? nlohmann::json(*r.first_bad_seq) : nlohmann::json();
    out["problem"] = r.problem;
  }
  return out;
}

}  // namespace medtwin::server
