#include "medtwin/server/audit_log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

namespace medtwin::server {
namespace {

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(store::Store& store,
                                                 security::SigningKeyPair key) {
  std::unique_ptr<AuditLog> log(new AuditLog(store, std::move(key)));
  // Continue the tree where the stored ledger ends.
  MEDTWIN_RETURN_IF_ERROR(store.ForEachAudit(
      [&](const store::Store::AuditRow& row) { log->tree_.Append(security::LeafHash(row.text)); }));
  log->recorded_ = log->stored_ = log->tree_.size();
  MEDTWIN_TRY(auto heads, store.TreeHeads());
  if (!heads.empty()) {
    if (!security::TreeHeadSignatureValid(heads.back(), log->key_.public_key)) {
      return InvalidArgument("--audit-key",
                             "this store's audit ledger was signed with another key: give that "
                             "key (heads signed with a new one would not verify against it)");
    }
    log->signed_size_ = heads.back().size;
  }
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

void AuditLog::RecordRefused(security::AuditEntry entry) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_pair(entry.from, entry.outcome);
    auto it = refused_.find(key);
    if (it == refused_.end()) {
      // The first of a window is recorded as it is.
      security::AuditEntry aggregate = entry;
      aggregate.count = 0;
      aggregate.action = "requests refused before authentication (aggregated)";
      aggregate.who.clear();
      aggregate.role.clear();
      aggregate.patients.clear();
      refused_.emplace(key, RefusedWindow{std::chrono::steady_clock::now(), std::move(aggregate)});
      queue_.push_back(std::move(entry));
      ++recorded_;
    } else {
      ++it->second.entry.count;
      it->second.entry.time_us = entry.time_us;  // the last one counted
    }
  }
  cv_.notify_one();
}

void AuditLog::CloseRefusedWindows(bool everything) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = refused_.begin(); it != refused_.end();) {
    if (!everything && now - it->second.start < std::chrono::seconds(10)) {
      ++it;
      continue;
    }
    if (it->second.entry.count > 0) {
      queue_.push_back(std::move(it->second.entry));
      ++recorded_;
    }
    it = refused_.erase(it);
  }
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

Result<security::StoredHead> AuditLog::NewestHead() {
  Flush();
  MEDTWIN_TRY(auto heads, store_.TreeHeads());
  if (heads.empty()) return NotFound("audit", "no signed tree head yet");
  return heads.back();
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
  auto last_complaint = std::chrono::steady_clock::time_point{};
  std::uint64_t failed_attempts = 0;
  // Taken from the queue but not yet stored: kept, in order, until the store takes them (a
  // store outage delays records; it never drops them).
  std::deque<security::AuditEntry> pending;
  for (;;) {
    bool stopping = false, flush = false;
    std::uint64_t flush_upto = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // While the store refuses, retry at most every 200 ms (and on a flush or at shutdown).
      const auto wait =
          failed_attempts > 0 ? std::chrono::milliseconds(200) : std::chrono::milliseconds(20);
      cv_.wait_for(lock, wait, [&] {
        return stopping_ || flush_requests_ > flushes_done_ ||
               (failed_attempts == 0 && queue_.size() >= 4096);
      });
      CloseRefusedWindows(stopping_ || flush_requests_ > flushes_done_);
      for (auto& e : queue_) pending.push_back(std::move(e));
      queue_.clear();
      stopping = stopping_;
      flush_upto = flush_requests_;
      flush = flush_upto > flushes_done_;
    }
    bool stored_all = true;
    if (!pending.empty()) {
      std::string problem;
      try {
        // Chain the batch on a copy of the tree: the tree moves on only with the store.
        security::MerkleFrontier tree = tree_;
        std::vector<store::Store::AuditRow> rows;
        rows.reserve(pending.size());
        for (const auto& e : pending) {
          const std::uint64_t seq = tree.size();
          std::string text = security::AuditRecordText(e, seq, tree.Root());
          tree.Append(security::LeafHash(text));
          rows.push_back({seq, std::move(text)});
        }
        if (Status st = store_.AppendAudit(rows); st.ok()) {
          tree_ = tree;
          if (failed_attempts > 0) {
            std::fprintf(stderr,
                         "medtwin: audit store available again: %zu held records stored after "
                         "%llu failed attempts\n",
                         pending.size(), static_cast<unsigned long long>(failed_attempts));
          }
          pending.clear();
          failed_attempts = 0;
        } else {
          problem = st.error().ToString();
        }
      } catch (const std::exception& e) {
        problem = e.what();
      } catch (...) {
        problem = "unknown failure";
      }
      if (!problem.empty()) {
        stored_all = false;
        ++failed_attempts;
        held_.store(pending.size());
        // One line per 10 s at most, however often the store is tried.
        const auto now = std::chrono::steady_clock::now();
        if (now - last_complaint >= std::chrono::seconds(10)) {
          std::fprintf(stderr, "medtwin: audit store unavailable, %zu records held in order: %s\n",
                       pending.size(), problem.c_str());
          last_complaint = now;
        }
        // At shutdown the wait above no longer paces the retries.
        if (stopping) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      } else {
        held_.store(0);
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (stored_all && tree_.size() > signed_size_ &&
        (stopping || flush || now - last_head >= std::chrono::seconds(1))) {
      if (Status st = SignHead(); !st.ok()) {
        if (now - last_complaint >= std::chrono::seconds(10)) {
          std::fprintf(stderr, "medtwin: audit tree head not stored: %s\n",
                       st.error().ToString().c_str());
          last_complaint = now;
        }
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
      // At shutdown: a few more tries while the store refuses, then say what is lost.
      if (queue_.empty() && (pending.empty() || failed_attempts > 25)) {
        if (!pending.empty()) {
          std::fprintf(stderr, "medtwin: %zu audit records could not be stored before shutdown\n",
                       pending.size());
        }
        return;
      }
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

nlohmann::json VerifyStoredLedger(store::Store& store, const std::string& public_key,
                                  const std::vector<security::StoredHead>& kept_heads) {
  auto ledger = ReadStoredLedger(store);
  if (!ledger.ok()) {
    return {{"ok", false}, {"problem", "the ledger cannot be read from the store"}};
  }
  // Heads kept outside the store are checked as the store's own are: a store that lost or
  // rewrote records under a head someone kept fails, whatever the store's heads now say.
  std::vector<security::StoredHead> heads = ledger->heads;
  heads.insert(heads.end(), kept_heads.begin(), kept_heads.end());
  const security::LedgerReport r = security::VerifyLedger(ledger->records, heads, public_key);
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
