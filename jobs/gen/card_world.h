// CardWorld: what the transaction generator draws once from its seed: a
// handful of cities, a catalogue of merchants in them (and online ones), and
// each card's habits.
//
// Immutable after construction: any thread may read it. Memory: about 250
// bytes per card, 2.5 MB for 10,000 cards and 250 MB for a million.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "jobs/gen/deterministic_random.h"

namespace kappa::gen {

enum class Channel : uint8_t { kPos, kOnline, kAtm };

// "pos", "online" or "atm": the Transaction.channel values.
const char* channel_name(Channel channel);

struct City {
  const char* name;
  double latitude;
  double longitude;
  // ISO 4217; every one close enough to the euro that amounts compare.
  const char* currency;
  // Standard time, for the cards' active hours.
  int utc_offset_hours;
  // Cities of different regions are at least 5,500 km apart.
  int region;
};

// The cities cards live in.
std::span<const City> cities();

struct Merchant {
  std::string id;  // "m-000123"
  std::string category;
  // The shop or ATM; (0, 0) for online merchants.
  double latitude = 0;
  double longitude = 0;
  Channel channel = Channel::kPos;
  int city = -1;  // index into cities(); -1 online
};

// One card's habits.
struct CardProfile {
  int city = 0;
  double home_latitude = 0;
  double home_longitude = 0;
  // The median of its purchase amounts, 10 to 150 in its city's currency.
  double typical_amount = 0;
  // Most purchases fall in the `active_hours` hours from this local hour.
  int active_from_hour = 0;
  int active_hours = 24;
  // Shares of its purchases made online and at ATMs; the rest at points of sale.
  double online_share = 0;
  double atm_share = 0;
  // Its usual merchants, indices into the catalogue, favourites first.
  std::vector<int32_t> pos_merchants;
  std::vector<int32_t> online_merchants;
  int32_t atm = 0;

  bool is_usual(int32_t merchant) const;
};

// "card-000042".
std::string card_id(int64_t index);

class CardWorld {
 public:
  // Draws the merchants and `cards` cards from `random`. REQUIRES: cards >= 1.
  CardWorld(int64_t cards, DeterministicRandom& random);

  int64_t card_count() const { return static_cast<int64_t>(cards_.size()); }
  const CardProfile& card(int64_t index) const { return cards_[index]; }
  const Merchant& merchant(int32_t index) const { return merchants_[index]; }

  // A card picked with probability proportional to its activity (cards
  // differ: some are used every few seconds, some every few minutes).
  int64_t pick_by_activity(DeterministicRandom& random) const;

  // One of the card's usual merchants for `channel`, favourites more often.
  int32_t usual_merchant(const CardProfile& card, Channel channel, DeterministicRandom& random) const;

  // A merchant of `channel` (kPos or kOnline) in `city` (ignored online) that
  // is neither one of the card's usual merchants nor in `taken`.
  // REQUIRES: taken.size() < 30 (each pool leaves at least 30 to choose from).
  int32_t unfamiliar_merchant(const CardProfile& card, Channel channel, int city, std::span<const int32_t> taken,
                              DeterministicRandom& random) const;

 private:
  struct Pool {  // merchants_[begin, begin + count)
    int32_t begin = 0;
    int32_t count = 0;
  };

  Pool add_merchants(int32_t count, Channel channel, int city, std::span<const char* const> categories,
                     DeterministicRandom& random);
  CardProfile make_card(DeterministicRandom& random) const;
  static int32_t pick_from(Pool pool, DeterministicRandom& random);
  // `count` distinct merchants of `pool`.
  static std::vector<int32_t> distinct_from(Pool pool, int count, DeterministicRandom& random);

  std::vector<Merchant> merchants_;
  std::vector<Pool> pos_pools_;  // per city
  std::vector<Pool> atm_pools_;  // per city
  Pool online_pool_;
  std::vector<CardProfile> cards_;
  std::vector<double> cumulative_activity_;  // running sums of the cards' activities
};

}  // namespace kappa::gen
