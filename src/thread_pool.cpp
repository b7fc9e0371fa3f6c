#include "typenet/thread_pool.hpp"

#include "typenet/layers/layer.hpp"

#include <algorithm>
#include <chrono>

namespace typenet {

namespace {

void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Waits until `value` differs from `old` and returns it: spins (the other threads are running
// on their own cores and about to get there), then yields the core (they may be waiting for
// one: a loaded machine), then sleeps.
std::uint32_t wait_for_change(const std::atomic<std::uint32_t>& value, std::uint32_t old) noexcept {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto yield_from = start + std::chrono::microseconds(ThreadPool::kSpinMicroseconds / 20);
  const auto sleep_from = start + std::chrono::microseconds(ThreadPool::kSpinMicroseconds);
  bool yielding = false;
  for (std::uint32_t spins = 0;; ++spins) {
    const std::uint32_t now = value.load(std::memory_order_acquire);
    if (now != old) return now;
    if (yielding) std::this_thread::yield();
    else cpu_relax();
    if (yielding || spins % 64 == 63) {
      const auto time = Clock::now();
      if (time > sleep_from) break;
      yielding = time > yield_from;
    }
  }
  for (;;) {
    value.wait(old, std::memory_order_acquire);
    const std::uint32_t now = value.load(std::memory_order_acquire);
    if (now != old) return now;
  }
}

}  // namespace

ThreadPool::ThreadPool(std::size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads - 1);
  for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stopping_.store(true, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::run_raw(RawJob job, void* context) {
  if (workers_.empty()) return job(context, 0);
  job_ = job;
  context_ = context;
  pending_.store(std::uint32_t(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();  // no system call unless a worker sleeps
  job(context, 0);
  for (std::uint32_t left = pending_.load(std::memory_order_acquire); left != 0;)
    left = wait_for_change(pending_, left);
}

void ThreadPool::worker_loop(std::size_t worker) {
  std::uint32_t seen = 0;
  for (;;) {
    seen = wait_for_change(generation_, seen);
    if (stopping_.load(std::memory_order_relaxed)) return;
    job_(context_, worker);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
    pending_.notify_one();  // the caller waits for each change; no system call unless it sleeps
  }
}

void ThreadPool::barrier(std::size_t members) noexcept {
  if (members <= 1) return;
  const std::uint32_t phase = barrier_phase_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == members) {
    arrived_.store(0, std::memory_order_relaxed);
    barrier_phase_.fetch_add(1, std::memory_order_release);
    barrier_phase_.notify_all();
  } else {
    wait_for_change(barrier_phase_, phase);
  }
}

void Team::sync() const noexcept {
  if (pool) pool->barrier(size);
}

const double* BatchPeers::all_gather(const double* partial, std::size_t count) const noexcept {
  if (!pool) return partial;
  double* round = slots + (*exchanges)++ % 2 * workers * stride;
  std::copy_n(partial, count, round + worker * stride);
  pool->barrier(workers);
  return round;
}

}  // namespace typenet
