// Seeded JSON card events, the input of the window_agg integration tests and
// of the replay benchmark (bench/kafka_throughput --job replay). Header-only
// and free of GoogleTest and Kafka, so both can include it without linking.
//
// An event is a card payment, keyed by its card:
//   {"card":"card-17","ts":1763700000123,"amount":250,"merchant":"m3"}
// Event times (`ts`, epoch ms) rise by 0-19 ms from one event to the next,
// each event up to 2 s behind that clock: disorder under 2 s, so a job with
// an out-of-orderness of 2 s or more sees no late event.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace kappa::testing {

inline constexpr int64_t kCardEventsFirstMs = 1'763'700'000'000;

// Generates the events one at a time, the same sequence for the same seed.
// Not thread-safe.
class CardEventGenerator {
 public:
  CardEventGenerator(uint64_t seed, int cards, int64_t first_ms = kCardEventsFirstMs)
      : rng_(seed), cards_(static_cast<uint64_t>(cards)), clock_(first_ms) {}

  // Sets `card` (the record key) and `json` (the value) to the next event
  // and returns its event time in epoch ms.
  int64_t next(std::string& card, std::string& json) {
    clock_ += static_cast<int64_t>(rng_() % 20);
    const int64_t ts = clock_ - static_cast<int64_t>(rng_() % 2000);
    card = "card-" + std::to_string(rng_() % cards_);
    // The merchant is drawn before the amount: the order GCC evaluated them
    // in when this was one expression, so the tests' events stay as they were.
    const uint64_t merchant = rng_() % 40;
    const uint64_t amount = rng_() % 500;
    json = "{\"card\":\"" + card + "\",\"ts\":" + std::to_string(ts) + ",\"amount\":" + std::to_string(amount) +
           ",\"merchant\":\"m" + std::to_string(merchant) + "\"}";
    return ts;
  }

 private:
  std::mt19937_64 rng_;
  uint64_t cards_;
  int64_t clock_;
};

// `count` events from seed `seed` over `cards` cards, as (key, value) pairs.
inline std::vector<std::pair<std::string, std::string>> make_card_events(uint64_t seed, int count, int cards,
                                                                         int64_t first_ms = kCardEventsFirstMs) {
  CardEventGenerator generator(seed, cards, first_ms);
  std::vector<std::pair<std::string, std::string>> events(static_cast<std::size_t>(count));
  for (auto& [card, json] : events) generator.next(card, json);
  return events;
}

}  // namespace kappa::testing
