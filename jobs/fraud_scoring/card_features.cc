#include "jobs/fraud_scoring/card_features.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "operators/aggregate/encoding.h"

namespace kappa::fraud {

using card_features_detail::CardHistory;
using card_features_detail::MerchantDictionary;
using card_features_detail::StoredTransaction;
using card_features_detail::Window;

namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr int64_t kThirtyDaysMs = 30 * kDayMs;
constexpr std::array<int64_t, card_features_detail::kWindowCount> kWindowSizes = {kMinuteMs, kHourMs, kDayMs,
                                                                                  kThirtyDaysMs};

constexpr uint8_t kFormatVersion = 1;

static_assert(sizeof(StoredTransaction) == 40, "a card keeps 30 days of these: keep them small");

// Whether `time` is in the window (reference - size, reference]. Written
// without forming reference - size, which overflows for extreme timestamps.
bool in_window(Timestamp time, Timestamp reference, int64_t size) {
  return time <= reference &&
         static_cast<uint64_t>(reference) - static_cast<uint64_t>(time) < static_cast<uint64_t>(size);
}

// When a transaction at `time` leaves every future window, saturating.
Timestamp expiry_of(Timestamp time) {
  return time > kMaxTimestamp - kThirtyDaysMs ? kMaxTimestamp : time + kThirtyDaysMs;
}

double to_units(Int128 cents) { return static_cast<double>(cents) / 100.0; }

double amount_zscore(int64_t cents, int64_t history_count, Int128 history_cents, Int128 history_squared_cents) {
  if (history_count < 2) return 0;
  const AmountMoments history = amount_moments(history_count, history_cents, history_squared_cents);
  const double spread = std::max({history.stddev, 0.01 * std::abs(history.mean), 0.01});
  return (to_units(cents) - history.mean) / spread;
}

}  // namespace

std::array<double, kFeatureCount> feature_values(const CardFeatures& f) {
  return {static_cast<double>(f.count_1m),
          static_cast<double>(f.count_1h),
          static_cast<double>(f.count_24h),
          f.sum_1m,
          f.sum_1h,
          f.sum_24h,
          f.mean_30d,
          f.stddev_30d,
          f.amount_zscore,
          static_cast<double>(f.distinct_merchants_24h),
          f.seconds_since_previous,
          f.distance_km,
          f.speed_kmh};
}

void to_vector(const CardFeatures& features, std::vector<double>& out) {
  const auto values = feature_values(features);
  out.assign(values.begin(), values.end());
}

void to_proto(const CardFeatures& f, jobs::CardFeatures* out) {
  out->set_count_1m(f.count_1m);
  out->set_count_1h(f.count_1h);
  out->set_count_24h(f.count_24h);
  out->set_sum_1m(f.sum_1m);
  out->set_sum_1h(f.sum_1h);
  out->set_sum_24h(f.sum_24h);
  out->set_mean_30d(f.mean_30d);
  out->set_stddev_30d(f.stddev_30d);
  out->set_amount_zscore(f.amount_zscore);
  out->set_distinct_merchants_24h(f.distinct_merchants_24h);
  out->set_seconds_since_previous(f.seconds_since_previous);
  out->set_distance_km(f.distance_km);
  out->set_speed_kmh(f.speed_kmh);
}

int64_t amount_to_cents(double amount) {
  const double cents = amount * 100.0;
  if (std::isnan(cents)) return 0;
  return std::llround(std::clamp(cents, -static_cast<double>(kMaxAbsCents), static_cast<double>(kMaxAbsCents)));
}

double haversine_km(double latitude1, double longitude1, double latitude2, double longitude2) {
  constexpr double kEarthRadiusKm = 6371.0088;  // IUGG mean radius
  constexpr double kRadiansPerDegree = std::numbers::pi / 180.0;
  const double phi1 = latitude1 * kRadiansPerDegree;
  const double phi2 = latitude2 * kRadiansPerDegree;
  const double half_dphi = (latitude2 - latitude1) * kRadiansPerDegree / 2;
  const double half_dlambda = (longitude2 - longitude1) * kRadiansPerDegree / 2;
  const double a = std::sin(half_dphi) * std::sin(half_dphi) +
                   std::cos(phi1) * std::cos(phi2) * std::sin(half_dlambda) * std::sin(half_dlambda);
  // Rounding can push a just past 1 for antipodal points.
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

AmountMoments amount_moments(int64_t count, Int128 cents, Int128 squared_cents) {
  if (count == 0) return {};
  const double n = static_cast<double>(count);
  AmountMoments moments;
  moments.mean = static_cast<double>(cents) / n / 100.0;
  if (count < 2) return moments;
  // The sum of squared deviations without forming n * sum(c^2) or
  // sum(c)^2, which can overflow 128 bits: with q = sum(c) / n (integer)
  // and r its remainder, sum((c - q)^2) = sum(c^2) - q * (sum(c) + r) is an
  // exact integer of the size of sum(c^2), and the deviations from the
  // true mean sum to it minus r^2 / n.
  const Int128 q = cents / count;
  const Int128 r = cents % count;
  const Int128 squares_about_q = squared_cents - q * (cents + r);
  const double squared_deviations = static_cast<double>(squares_about_q) - static_cast<double>(r * r) / n;
  moments.stddev = std::sqrt(std::max(0.0, squared_deviations) / (n - 1)) / 100.0;
  return moments;
}

namespace card_features_detail {

uint32_t MerchantDictionary::acquire(std::string_view merchant_id) {
  if (auto it = codes_.find(merchant_id); it != codes_.end()) {
    ++slots_[it->second].references;
    return it->second;
  }
  uint32_t code;
  if (free_.empty()) {
    code = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    code = free_.back();
    free_.pop_back();
  }
  slots_[code] = Slot{std::string(merchant_id), 1};
  codes_.emplace(slots_[code].id, code);
  return code;
}

void MerchantDictionary::release(uint32_t code) {
  Slot& slot = slots_[code];
  if (--slot.references > 0) return;
  codes_.erase(slot.id);
  std::string().swap(slot.id);  // frees a long id's buffer
  free_.push_back(code);
}

CardFeatures CardHistory::add(const StoredTransaction& transaction) {
  const Timestamp t = transaction.time;
  // After every kept transaction at or before t: sorted by (time, arrival).
  std::size_t position = transactions_.size();
  while (position > dropped_ && transactions_[position - 1].time > t) --position;
  transactions_.insert(transactions_.begin() + static_cast<std::ptrdiff_t>(position), transaction);
  const Timestamp newest = transactions_.back().time;

  // For each size, the running window (that of the newest time) takes the
  // transaction in, or shifts past it; then this transaction's own window
  // [first, position] is read from it: the few transactions between the two
  // windows' starts added, those after this one taken out.
  std::array<std::size_t, kWindowCount> first{};
  std::array<Totals, kWindowCount> totals{};
  for (std::size_t w = 0; w < kWindowCount; ++w) {
    const auto window_id = static_cast<Window>(w);
    RunningWindow& window = windows_[w];
    const int64_t size = kWindowSizes[w];
    if (in_window(t, newest, size)) {
      enter(window_id, transaction);
    } else {
      ++window.begin;  // it sorts before the running window
    }
    while (!in_window(transactions_[window.begin].time, newest, size)) leave(window_id, transactions_[window.begin++]);

    first[w] = std::min(window.begin, position);
    while (first[w] > dropped_ && in_window(transactions_[first[w] - 1].time, t, size)) --first[w];
    totals[w] = window.totals;
    for (std::size_t i = first[w]; i < window.begin; ++i) totals[w].add(transactions_[i]);
    for (std::size_t i = position + 1; i < transactions_.size(); ++i) totals[w].remove(transactions_[i]);
  }

  const auto count = [&](Window w) { return static_cast<int64_t>(position + 1 - first[w]); };
  CardFeatures f;
  f.count_1m = count(kMinute);
  f.count_1h = count(kHour);
  f.count_24h = count(kDay);
  f.sum_1m = to_units(totals[kMinute].cents);
  f.sum_1h = to_units(totals[kHour].cents);
  f.sum_24h = to_units(totals[kDay].cents);
  const Totals& month = totals[kThirtyDays];
  const AmountMoments moments = amount_moments(count(kThirtyDays), month.cents, month.squared_cents);
  f.mean_30d = moments.mean;
  f.stddev_30d = moments.stddev;
  const Int128 cents = transaction.cents;
  f.amount_zscore = amount_zscore(transaction.cents, count(kThirtyDays) - 1, month.cents - cents,
                                  month.squared_cents - cents * cents);
  f.distinct_merchants_24h = distinct_merchants_between(first[kDay], position);

  if (first[kThirtyDays] < position) {
    const StoredTransaction& previous = transactions_[position - 1];
    const int64_t gap_ms = t - previous.time;  // under 30 days
    f.seconds_since_previous = static_cast<double>(gap_ms) / 1000.0;
    f.distance_km = haversine_km(previous.latitude, previous.longitude, transaction.latitude, transaction.longitude);
    const double gap_seconds = gap_ms == 0 ? 1.0 : f.seconds_since_previous;
    f.speed_kmh = f.distance_km == 0 ? 0.0 : f.distance_km / (gap_seconds / 3600.0);
  }
  return f;
}

void CardHistory::Totals::add(const StoredTransaction& transaction) {
  cents += transaction.cents;
  squared_cents += static_cast<Int128>(transaction.cents) * transaction.cents;
}

void CardHistory::Totals::remove(const StoredTransaction& transaction) {
  cents -= transaction.cents;
  squared_cents -= static_cast<Int128>(transaction.cents) * transaction.cents;
}

void CardHistory::enter(Window w, const StoredTransaction& transaction) {
  windows_[w].totals.add(transaction);
  if (w == kDay) count_merchant(transaction.merchant);
}

void CardHistory::leave(Window w, const StoredTransaction& transaction) {
  windows_[w].totals.remove(transaction);
  if (w == kDay) uncount_merchant(transaction.merchant);
}

void CardHistory::count_merchant(uint32_t code) { ++merchants_in_day_[code]; }

void CardHistory::uncount_merchant(uint32_t code) {
  auto it = merchants_in_day_.find(code);
  if (--it->second == 0) merchants_in_day_.erase(it);
}

// The map counts the running 24 h window: it is moved to [first, last] the
// way add() moves the totals, read, and moved back. Entering before leaving
// keeps every count positive.
int64_t CardHistory::distinct_merchants_between(std::size_t first, std::size_t last) {
  const std::size_t begin = windows_[kDay].begin;
  const std::size_t end = transactions_.size();
  for (std::size_t i = first; i < begin; ++i) count_merchant(transactions_[i].merchant);
  for (std::size_t i = last + 1; i < end; ++i) uncount_merchant(transactions_[i].merchant);
  const auto distinct = static_cast<int64_t>(merchants_in_day_.size());
  for (std::size_t i = last + 1; i < end; ++i) count_merchant(transactions_[i].merchant);
  for (std::size_t i = first; i < begin; ++i) uncount_merchant(transactions_[i].merchant);
  return distinct;
}

void CardHistory::drop_expired(Timestamp watermark, MerchantDictionary& merchants) {
  while (!empty() && expiry_of(transactions_[dropped_].time) <= watermark) {
    const StoredTransaction& oldest = transactions_[dropped_];
    for (std::size_t w = 0; w < kWindowCount; ++w) {
      if (windows_[w].begin != dropped_) continue;  // not in that running window
      leave(static_cast<Window>(w), oldest);
      ++windows_[w].begin;
    }
    merchants.release(oldest.merchant);
    ++dropped_;
  }
  compact();
}

// Dropped transactions are erased in bulk once they are half of the vector,
// so dropping costs O(1) amortized and the vector never holds more than
// twice the kept transactions.
void CardHistory::compact() {
  if (dropped_ == 0 || dropped_ * 2 < transactions_.size()) return;
  transactions_.erase(transactions_.begin(), transactions_.begin() + static_cast<std::ptrdiff_t>(dropped_));
  for (RunningWindow& window : windows_) window.begin -= dropped_;
  dropped_ = 0;
  if (transactions_.capacity() / 4 > transactions_.size()) transactions_.shrink_to_fit();
}

}  // namespace card_features_detail

const std::string* CardFeaturesOperator::add(const jobs::Transaction& transaction, Timestamp time,
                                             CardFeatures& features) {
  if (time < watermark_) {
    if (context_ != nullptr) context_->report_late();
    return nullptr;
  }
  CardTable::Entry& card = cards_.find_or_add(transaction.card_id());
  features = card.second.state.add(StoredTransaction{time, amount_to_cents(transaction.amount()),
                                                     transaction.latitude(), transaction.longitude(),
                                                     merchants_.acquire(transaction.merchant_id())});
  schedule_expiry(card);
  return &card.first;
}

// A pending expiry only moves earlier (an older transaction arrived).
void CardFeaturesOperator::schedule_expiry(CardTable::Entry& card) {
  cards_.schedule(card, expiry_of(card.second.state.transactions().front().time));
}

void CardFeaturesOperator::advance_watermark(Timestamp watermark) {
  if (watermark <= watermark_) return;
  watermark_ = watermark;
  cards_.run_timers(watermark, [&](CardTable::Entry& card) {
    CardHistory& history = card.second.state;
    history.drop_expired(watermark, merchants_);
    if (history.empty()) {
      cards_.forget(card.first);
    } else {
      schedule_expiry(card);  // after the watermark, so not in this step
    }
  });
}

// A card's entry: its transaction count, then each transaction in (time,
// arrival) order as time (i64), cents (i64), latitude, longitude (doubles),
// merchant id (string). The meta entry: format version (u8), watermark (i64).
void CardFeaturesOperator::checkpoint(StateWriter& out) {
  using namespace agg::encoding;
  std::string meta;
  put_u8(meta, kFormatVersion);
  put_i64(meta, watermark_);
  cards_.checkpoint(out, meta, [&](const std::string&, const CardHistory& history, std::string& value) {
    const auto transactions = history.transactions();
    put_count(value, static_cast<int64_t>(transactions.size()));
    for (const StoredTransaction& transaction : transactions) {
      put_i64(value, transaction.time);
      put_i64(value, transaction.cents);
      put_double(value, transaction.latitude);
      put_double(value, transaction.longitude);
      put_string(value, merchants_.id(transaction.merchant));
    }
  });
}

Status CardFeaturesOperator::restore(StateReader& in) {
  using namespace agg::encoding;
  // In place: the table keeps the card reader for entries it reads back
  // under a memory budget. A failed restore leaves cards_ as it was (empty:
  // restore comes first); merchants it interned stay in the pool unused.
  Timestamp watermark = watermark_;
  KAPPA_RETURN_IF_ERROR(cards_.restore(
      in,
      [&](std::string_view meta) {
        uint8_t version = 0;
        if (!get_u8(meta, version) || version != kFormatVersion || !get_i64(meta, watermark) || !meta.empty()) {
          return Status::corruption("card features state: the meta entry does not decode (another format version?)");
        }
        return Status::ok();
      },
      [this](const std::string& card_id, std::string_view value) -> Result<CardHistory> {
        Result<CardHistory> history = read_card(value);
        if (!history.is_ok()) return Status::corruption("card features state: card " + card_id + ": " +
                                                        history.status().message());
        return history;
      }));
  watermark_ = watermark;
  return Status::ok();
}

Result<CardHistory> CardFeaturesOperator::read_card(std::string_view value) {
  using namespace agg::encoding;
  int64_t count = 0;
  if (!get_count(value, count) || count == 0) return Status::corruption("no transactions");
  CardHistory history;
  std::string merchant_id;
  Timestamp previous_time = kMinTimestamp;
  for (int64_t i = 0; i < count; ++i) {
    StoredTransaction transaction;
    if (!get_i64(value, transaction.time) || !get_i64(value, transaction.cents) ||
        !get_double(value, transaction.latitude) || !get_double(value, transaction.longitude) ||
        !get_string(value, merchant_id)) {
      return Status::corruption("truncated");
    }
    if (transaction.time < previous_time) return Status::corruption("transactions out of time order");
    if (transaction.cents < -kMaxAbsCents || transaction.cents > kMaxAbsCents) {
      return Status::corruption("amount out of range");
    }
    previous_time = transaction.time;
    transaction.merchant = merchants_.acquire(merchant_id);
    // Added in time order, they rebuild the running windows exactly.
    history.add(transaction);
  }
  if (!value.empty()) return Status::corruption("trailing bytes");
  return history;
}

}  // namespace kappa::fraud
