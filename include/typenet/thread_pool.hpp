// A fixed set of worker threads, created once, that run one job at a time on every thread
// (the caller's thread is worker 0). Running a job allocates nothing: the job is passed as a
// function pointer and a context pointer.
//
// Waiting spins for a few microseconds, then yields the core, then sleeps (a futex, through
// std::atomic::wait): a job that follows the last within kSpinMicroseconds starts without a
// wake-up, which is what a training step (three jobs) and a team forward pass of one image (a
// barrier per layer) need; yielding lets a descheduled team member run on a loaded machine; an
// idle pool costs nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "typenet/share.hpp"

namespace typenet {

class ThreadPool {
 public:
  // How long a waiting thread spins before it sleeps.
  static constexpr std::uint32_t kSpinMicroseconds = 100;

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

  // Inside a job: returns once workers 0 .. members-1 have all called it (members <= size();
  // every one of them must call it, with the same count).
  void barrier(std::size_t members) noexcept;

 private:
  using RawJob = void (*)(void*, std::size_t);
  void run_raw(RawJob job, void* context);
  void worker_loop(std::size_t worker);

  std::vector<std::thread> workers_;
  RawJob job_ = nullptr;  // published by generation_ (release / acquire)
  void* context_ = nullptr;
  std::atomic<std::uint32_t> generation_{0};  // bumped to start a job
  std::atomic<std::uint32_t> pending_{0};     // workers (other than 0) still in the job
  std::atomic<std::uint32_t> arrived_{0};     // at the current barrier
  std::atomic<std::uint32_t> barrier_phase_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace typenet
