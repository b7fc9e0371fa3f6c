// The thread pool: every worker runs each job once, barriers hold every member back until all
// arrive, jobs follow each other quickly (spinning) and after a sleep (futex); work shares.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <typenet/thread_pool.hpp>

using namespace typenet;

TEST_CASE("share_of splits contiguously, balanced, on granule boundaries") {
  CHECK(share_of(10, 0, 3) == std::pair<std::size_t, std::size_t>{0, 3});
  CHECK(share_of(10, 1, 3) == std::pair<std::size_t, std::size_t>{3, 6});
  CHECK(share_of(10, 2, 3) == std::pair<std::size_t, std::size_t>{6, 10});
  // 100 items in granules of 16: 6 whole granules, the last part takes the remainder.
  CHECK(share_of(100, 0, 2, 16) == std::pair<std::size_t, std::size_t>{0, 48});
  CHECK(share_of(100, 1, 2, 16) == std::pair<std::size_t, std::size_t>{48, 100});
  // More parts than granules: some parts are empty, none overlap.
  std::size_t covered = 0;
  for (std::size_t part = 0; part < 8; ++part) {
    const auto [begin, end] = share_of(40, part, 8, 16);
    CHECK(begin == covered);
    covered = end;
  }
  CHECK(covered == 40);
}

TEST_CASE("run calls the job once on every worker, also after the workers fell asleep") {
  for (const std::size_t threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    REQUIRE(pool.size() == threads);
    std::vector<std::atomic<int>> calls(threads);
    auto job = [&](std::size_t worker) { calls[worker].fetch_add(1); };
    for (int round = 0; round < 200; ++round) pool.run(job);  // back to back: spinning
    std::this_thread::sleep_for(
        std::chrono::microseconds(20 * ThreadPool::kSpinMicroseconds));  // asleep now
    pool.run(job);
    for (std::size_t w = 0; w < threads; ++w) CHECK(calls[w].load() == 201);
  }
}

TEST_CASE("barrier: no member passes until every member has arrived") {
  for (const std::size_t threads : {2, 3, 4}) {
    ThreadPool pool(threads);
    for (const std::size_t members : {std::size_t{1}, threads - 1, threads}) {
      constexpr int kPhases = 300;
      std::atomic<int> arrivals{0};
      std::atomic<bool> early{false};
      auto job = [&](std::size_t worker) {
        if (worker >= members) return;
        for (int phase = 0; phase < kPhases; ++phase) {
          arrivals.fetch_add(1);
          pool.barrier(members);
          // Everyone has arrived at this phase's barrier.
          if (arrivals.load() < int(members) * (phase + 1)) early = true;
          pool.barrier(members);
        }
      };
      pool.run(job);
      CHECK(!early.load());
      CHECK(arrivals.load() == int(members) * kPhases);
    }
  }
}
