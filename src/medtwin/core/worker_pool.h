// core/worker_pool.h — a fixed set of threads working through one FIFO queue of tasks, for
// long computations that must not hold up the thread that asked for them (drug-twin fits off
// the twin shards). Destruction finishes the running tasks, drops the queued ones and joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace medtwin {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> task);
  // Tasks queued and not started yet.
  [[nodiscard]] std::size_t Queued() const;
  [[nodiscard]] int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace medtwin
