// A fixed set of worker threads, created once, that run one job at a time on every thread
// (the caller's thread is worker 0). Running a job allocates nothing: the job is passed as a
// function pointer and a context pointer, and workers wait on a condition variable.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace typenet {

class ThreadPool {
 public:
  // threads == 0: one per hardware thread.
  explicit ThreadPool(std::size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  std::size_t size() const noexcept { return workers_.size() + 1; }

  // Calls job(worker) once on each worker 0 .. size()-1, in parallel; returns when all are done.
  template <class Job>
  void run(Job& job) {
    run_raw([](void* context, std::size_t worker) { (*static_cast<Job*>(context))(worker); }, &job);
  }

  // The part [begin, end) of `count` items that `worker` of `workers` takes: contiguous and
  // balanced, so work splits the same way on every run.
  static constexpr std::pair<std::size_t, std::size_t> share(std::size_t count, std::size_t worker,
                                                             std::size_t workers) noexcept {
    return {count * worker / workers, count * (worker + 1) / workers};
  }

 private:
  using RawJob = void (*)(void*, std::size_t);
  void run_raw(RawJob job, void* context);
  void worker_loop(std::size_t worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  RawJob job_ = nullptr;
  void* context_ = nullptr;
  std::uint64_t generation_ = 0;
  std::size_t pending_ = 0;
  bool stopping_ = false;
};

}  // namespace typenet
