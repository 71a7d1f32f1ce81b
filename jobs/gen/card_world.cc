#include "jobs/gen/card_world.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "runtime/status.h"

namespace kappa::gen {
namespace {

// Regions: 0 Europe, 1 North America, 2 Singapore, 3 Australia.
constexpr std::array<City, 11> kCities{{
    {"Paris", 48.8566, 2.3522, "EUR", 1, 0},
    {"Berlin", 52.5200, 13.4050, "EUR", 1, 0},
    {"Madrid", 40.4168, -3.7038, "EUR", 1, 0},
    {"London", 51.5074, -0.1278, "GBP", 0, 0},
    {"Zurich", 47.3769, 8.5417, "CHF", 1, 0},
    {"New York", 40.7128, -74.0060, "USD", -5, 1},
    {"Chicago", 41.8781, -87.6298, "USD", -6, 1},
    {"San Francisco", 37.7749, -122.4194, "USD", -8, 1},
    {"Toronto", 43.6532, -79.3832, "CAD", -5, 1},
    {"Singapore", 1.3521, 103.8198, "SGD", 8, 2},
    {"Sydney", -33.8688, 151.2093, "AUD", 10, 3},
}};

constexpr std::array<const char*, 7> kPosCategories{"grocery",  "restaurant", "fuel",         "retail",
                                                    "pharmacy", "transport",  "entertainment"};
constexpr std::array<const char*, 4> kOnlineCategories{"online_retail", "digital_goods", "subscriptions", "travel"};
constexpr std::array<const char*, 1> kAtmCategories{"atm"};

// Spread of homes and shops around a city centre, in degrees (about 9 km).
constexpr double kCitySpreadDegrees = 0.08;
// log2(15): typical amounts are 10 * 2^(u * this), log-uniform in [10, 150).
constexpr double kLog2TypicalRange = 3.9068905956085187;
// Activity is 2^(this * normal): cards two standard deviations apart differ about 30-fold.
constexpr double kActivitySpreadLog2 = 1.2;
constexpr int kMinUsualMerchants = 5;
constexpr int kMaxUsualMerchants = 20;
constexpr int kMaxUsualOnlineMerchants = 8;
// Pools big enough that a card always finds merchants it has not used.
constexpr int32_t kMinPoolSize = 50;

}  // namespace

const char* channel_name(Channel channel) {
  switch (channel) {
    case Channel::kPos:
      return "pos";
    case Channel::kOnline:
      return "online";
    case Channel::kAtm:
      return "atm";
  }
  return "pos";
}

std::span<const City> cities() { return kCities; }

bool CardProfile::is_usual(int32_t merchant) const {
  return merchant == atm || std::find(pos_merchants.begin(), pos_merchants.end(), merchant) != pos_merchants.end() ||
         std::find(online_merchants.begin(), online_merchants.end(), merchant) != online_merchants.end();
}

std::string card_id(int64_t index) {
  char text[32];
  std::snprintf(text, sizeof text, "card-%06lld", static_cast<long long>(index));
  return text;
}

CardWorld::CardWorld(int64_t cards, DeterministicRandom& random) {
  KAPPA_CHECK(cards >= 1, "a CardWorld needs at least one card");
  // Merchants scale with cards, so a big world has as many new ones to offer as a small one.
  const auto pos_per_city = static_cast<int32_t>(kMinPoolSize + cards / 50);
  const auto atms_per_city = static_cast<int32_t>(5 + cards / 1000);
  const auto online = static_cast<int32_t>(kMinPoolSize + cards / 100);
  for (int city = 0; city < static_cast<int>(kCities.size()); ++city) {
    pos_pools_.push_back(add_merchants(pos_per_city, Channel::kPos, city, kPosCategories, random));
    atm_pools_.push_back(add_merchants(atms_per_city, Channel::kAtm, city, kAtmCategories, random));
  }
  online_pool_ = add_merchants(online, Channel::kOnline, -1, kOnlineCategories, random);

  cards_.reserve(cards);
  cumulative_activity_.reserve(cards);
  double total_activity = 0;
  for (int64_t i = 0; i < cards; ++i) {
    cards_.push_back(make_card(random));
    total_activity += portable_exp2(kActivitySpreadLog2 * random.normal());
    cumulative_activity_.push_back(total_activity);
  }
}

CardWorld::Pool CardWorld::add_merchants(int32_t count, Channel channel, int city,
                                         std::span<const char* const> categories, DeterministicRandom& random) {
  Pool pool{static_cast<int32_t>(merchants_.size()), count};
  for (int32_t i = 0; i < count; ++i) {
    Merchant m;
    char id[32];
    std::snprintf(id, sizeof id, "m-%06d", static_cast<int>(merchants_.size()));
    m.id = id;
    m.category = categories[random.between(0, static_cast<int64_t>(categories.size()) - 1)];
    m.channel = channel;
    m.city = city;
    if (city >= 0) {
      m.latitude = kCities[city].latitude + kCitySpreadDegrees * random.normal();
      m.longitude = kCities[city].longitude + kCitySpreadDegrees * random.normal();
    }
    merchants_.push_back(std::move(m));
  }
  return pool;
}

CardProfile CardWorld::make_card(DeterministicRandom& random) const {
  CardProfile card;
  card.city = static_cast<int>(random.between(0, static_cast<int64_t>(kCities.size()) - 1));
  card.home_latitude = kCities[card.city].latitude + kCitySpreadDegrees * random.normal();
  card.home_longitude = kCities[card.city].longitude + kCitySpreadDegrees * random.normal();
  card.typical_amount = 10 * portable_exp2(kLog2TypicalRange * random.uniform());
  card.active_from_hour = static_cast<int>(random.between(6, 11));
  card.active_hours = static_cast<int>(random.between(10, 16));
  card.online_share = random.uniform(0.05, 0.4);
  card.atm_share = random.uniform(0.0, 0.08);
  const int usual = static_cast<int>(random.between(kMinUsualMerchants, kMaxUsualMerchants));
  const int usual_online =
      std::clamp(static_cast<int>(std::round(usual * card.online_share)), 1, kMaxUsualOnlineMerchants);
  card.pos_merchants = distinct_from(pos_pools_[card.city], usual - usual_online, random);
  card.online_merchants = distinct_from(online_pool_, usual_online, random);
  card.atm = pick_from(atm_pools_[card.city], random);
  return card;
}

int32_t CardWorld::pick_from(Pool pool, DeterministicRandom& random) {
  return pool.begin + static_cast<int32_t>(random.between(0, pool.count - 1));
}

std::vector<int32_t> CardWorld::distinct_from(Pool pool, int count, DeterministicRandom& random) {
  std::vector<int32_t> picked;
  while (static_cast<int>(picked.size()) < count) {
    const int32_t m = pick_from(pool, random);
    if (std::find(picked.begin(), picked.end(), m) == picked.end()) picked.push_back(m);
  }
  return picked;
}

int64_t CardWorld::pick_by_activity(DeterministicRandom& random) const {
  const double target = random.uniform() * cumulative_activity_.back();
  const auto it = std::upper_bound(cumulative_activity_.begin(), cumulative_activity_.end(), target);
  return std::min<int64_t>(it - cumulative_activity_.begin(), card_count() - 1);
}

int32_t CardWorld::usual_merchant(const CardProfile& card, Channel channel, DeterministicRandom& random) const {
  if (channel == Channel::kAtm) return card.atm;
  const std::vector<int32_t>& usual = channel == Channel::kOnline ? card.online_merchants : card.pos_merchants;
  // Zipf-like: the k-th favourite is chosen with weight 1 / (k + 1).
  double total = 0;
  for (std::size_t k = 0; k < usual.size(); ++k) total += 1.0 / static_cast<double>(k + 1);
  double target = random.uniform() * total;
  for (std::size_t k = 0; k < usual.size(); ++k) {
    target -= 1.0 / static_cast<double>(k + 1);
    if (target < 0) return usual[k];
  }
  return usual.back();
}

int32_t CardWorld::unfamiliar_merchant(const CardProfile& card, Channel channel, int city,
                                       std::span<const int32_t> taken, DeterministicRandom& random) const {
  KAPPA_CHECK(channel != Channel::kAtm, "unfamiliar merchants are shops or online merchants");
  KAPPA_CHECK(taken.size() < 30, "too many merchants taken to be sure of finding a new one");
  const Pool pool = channel == Channel::kOnline ? online_pool_ : pos_pools_[city];
  for (;;) {
    const int32_t m = pick_from(pool, random);
    if (!card.is_usual(m) && std::find(taken.begin(), taken.end(), m) == taken.end()) return m;
  }
}

}  // namespace kappa::gen
