// server/audit_log.h — the server's append-only audit ledger (security/audit.h) on the store.
// Record() queues an entry and returns at once; a writer thread gives entries their sequence
// numbers and chain links, stores them in batches (every 20 ms at most) and signs a tree head
// every second while records arrive, and on shutdown. On start the ledger's tree is rebuilt from
// the stored records, so sequence numbers and roots continue across restarts. While the store
// refuses (disk full, database down) records are held in memory in order and retried; none is
// dropped, and the log says so once per 10 s.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "medtwin/security/audit.h"
#include "medtwin/store/store.h"

namespace medtwin::server {

// The ledger as stored (records in seq order, tree heads by size).
struct StoredLedger {
  std::vector<security::StoredRecord> records;
  std::vector<security::StoredHead> heads;
};
[[nodiscard]] Result<StoredLedger> ReadStoredLedger(store::Store& store);

class AuditLog {
 public:
  // `key` signs the tree heads. A ledger whose newest stored head another key signed is
  // refused (kInvalidArgument naming --audit-key): it would no longer verify.
  static Result<std::unique_ptr<AuditLog>> Open(store::Store& store, security::SigningKeyPair key);
  ~AuditLog();  // stores what is queued and signs a final tree head
  void Record(security::AuditEntry entry);
  // A request refused before authentication succeeded (401, 429): the first from an address in
  // each 10-s window is recorded as it is, the rest are counted and recorded as one entry (with
  // `count`) when the window ends, so a flood cannot flood the ledger.
  void RecordRefused(security::AuditEntry entry);
  // Waits until everything recorded so far is stored and covered by a signed tree head.
  void Flush();
  [[nodiscard]] std::uint64_t size();
  // Records waiting because the store refused them (0 when the store keeps up).
  [[nodiscard]] std::uint64_t held() const { return held_.load(); }
  [[nodiscard]] const std::string& public_key() const { return key_.public_key; }
  // Every record stored so far (for consistency proofs) is read from the store; this is the
  // newest signed tree head.
  [[nodiscard]] Result<security::StoredHead> NewestHead();

 private:
  AuditLog(store::Store& store, security::SigningKeyPair key)
      : store_(store), key_(std::move(key)) {}
  void WriterLoop();
  Status SignHead();

  store::Store& store_;
  security::SigningKeyPair key_;
  security::MerkleFrontier tree_;  // writer thread only (and Open)
  std::uint64_t signed_size_ = 0;
  std::mutex mu_;
  std::condition_variable cv_, flushed_cv_;
  std::deque<security::AuditEntry> queue_;
  std::uint64_t recorded_ = 0, stored_ = 0;  // under mu_
  bool stopping_ = false;
  std::uint64_t flush_requests_ = 0, flushes_done_ = 0;  // under mu_
  std::atomic<std::uint64_t> held_{0};
  // Refused requests being counted, by (address, outcome); under mu_.
  struct RefusedWindow {
    std::chrono::steady_clock::time_point start;
    security::AuditEntry entry;  // the aggregate (count = requests after the first)
  };
  std::map<std::pair<std::string, int>, RefusedWindow> refused_;
  // Moves windows that have ended (all, when `everything`) into the queue; under mu_.
  void CloseRefusedWindows(bool everything);
  std::thread writer_;
};

}  // namespace medtwin::server
