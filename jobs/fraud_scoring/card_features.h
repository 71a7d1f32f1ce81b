// CardFeaturesOperator: the per-card features of every transaction, computed
// when it arrives (issue #5). The fraud scorer reads them, so this is on the
// latency path: a transaction's features are emitted at once, never held
// back for the watermark.
//
//   pipeline<jobs::Transaction>()
//       .event_time([](const jobs::Transaction& t) { return t.event_time(); }, 1min)
//       .then(fraud::card_features())
//
// Semantics (mirrored, naively, by the brute-force reference in the tests).
// Transactions are grouped by card_id; t is a transaction's event time (the
// element's timestamp). Within a task, arrival order is the Kafka
// partition's, so a replay gives the same results.
//  - Window of size S for a transaction e: the card's transactions that
//    arrived before e, and e itself, with time in (t - S, t]. A transaction
//    that arrived earlier with a time after t is not in e's windows.
//    count/sum: S = 1 min, 1 h, 24 h; distinct merchants: 24 h; mean and
//    sample stddev: 30 days (stddev 0 below 2 transactions).
//  - amount_zscore = (amount - m) / s over the 30-day window without e itself;
//    0 below 2 such transactions. s = max(stddev, 1% of |m|, 0.01): a floor,
//    so that after a perfectly constant history (stddev 0) a different amount
//    still stands out, by how much it differs relative to the usual amount.
//  - previous transaction: among the card's transactions that arrived before
//    e with time in (t - 30 days, t], the greatest by (time, arrival). The
//    30-day limit is the state's horizon (older transactions are dropped, so
//    memory is bounded): a card unseen for 30 days starts afresh, with
//    seconds_since_previous -1 and distance and speed 0. distance_km is the
//    haversine distance; speed_kmh = distance / gap, with a 1 s gap when the
//    gap is 0 (two places at one instant: very fast, never infinite), and 0
//    when the distance is 0.
//  - Amounts are whole cents, llround(amount * 100), clamped to
//    ±kMaxAbsCents (NaN counts as 0): sums are exact integers (128 bits), so
//    results do not depend on the order of additions and removals, and every
//    double is computed from exact sums by one fixed formula.
//  - Late: a transaction whose time is before the watermark when it arrives
//    is reported to the StageContext (the task's late output) and otherwise
//    ignored: not emitted, not in any other transaction's features.
//
// Efficiency: each card keeps its transactions of the last 30 days sorted by
// (time, arrival), with running totals per window (a begin index each, and a
// merchant -> count map for 24 h). A transaction in time order costs O(1)
// amortized per window; one that arrives out of order also costs a scan of
// the card's transactions within the out-of-orderness of it (those after it,
// and those about to leave its windows). A card's transactions are dropped
// once the watermark is 30 days past them, and a card with none is
// forgotten; the end of input (watermark +infinity) drops everything.
// Merchant ids are interned once per task, so a kept transaction is 40 bytes.
//
// Thread use: one task's thread, like every stage.
//
// Checkpoints (runtime/state.h, layout in operators/keyed/key_table.h): one
// entry per card, its kept transactions in (time, arrival) order as time,
// cents, latitude, longitude and merchant id; merchant codes and running
// totals are rebuilt on restore. The meta entry holds the watermark. A
// restored operator's results are identical to those of one that never
// stopped.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "jobs/proto/transaction.pb.h"
#include "operators/keyed/key_table.h"
#include "runtime/record.h"
#include "runtime/stage_context.h"
#include "runtime/state.h"
#include "runtime/status.h"

namespace kappa::fraud {

using Int128 = __int128;

// Amounts beyond ±10^12 currency units count as that much: no card payment
// comes near it in any currency, and the bound keeps every 30-day sum of
// squares of a card inside 128 bits.
inline constexpr int64_t kMaxAbsCents = 100'000'000'000'000;

// Field names match the CardFeatures protobuf (jobs/proto/transaction.proto).
struct CardFeatures {
  int64_t count_1m = 0, count_1h = 0, count_24h = 0;
  double sum_1m = 0, sum_1h = 0, sum_24h = 0;
  double mean_30d = 0, stddev_30d = 0;  // sample stddev; 0 below 2 transactions
  double amount_zscore = 0;
  int64_t distinct_merchants_24h = 0;
  double seconds_since_previous = -1;  // -1: no previous transaction
  double distance_km = 0, speed_kmh = 0;

  friend bool operator==(const CardFeatures&, const CardFeatures&) = default;
};

struct FeaturedTransaction {
  jobs::Transaction transaction;
  CardFeatures features;
};

// The features as a vector for a model: kFeatureNames[i] names value i, in
// the order CardFeatures declares them.
inline constexpr std::size_t kFeatureCount = 13;
inline constexpr std::array<std::string_view, kFeatureCount> kFeatureNames = {
    // clang-format off
    "count_1m", "count_1h", "count_24h",
    "sum_1m", "sum_1h", "sum_24h",
    "mean_30d", "stddev_30d", "amount_zscore",
    "distinct_merchants_24h",
    "seconds_since_previous", "distance_km", "speed_kmh",
    // clang-format on
};
std::array<double, kFeatureCount> feature_values(const CardFeatures& features);
// The same values in `out` (cleared first), for callers that keep a vector.
void to_vector(const CardFeatures& features, std::vector<double>& out);
void to_proto(const CardFeatures& features, jobs::CardFeatures* out);

// The formulas the features use, public so that tests and offline tools
// compute exactly the same doubles.

// llround(amount * 100), clamped to ±kMaxAbsCents; NaN is 0.
int64_t amount_to_cents(double amount);

// Great-circle distance on a sphere of the Earth's mean radius, 6371.0088 km.
double haversine_km(double latitude1, double longitude1, double latitude2, double longitude2);

// Mean and sample standard deviation, in currency units, of `count` amounts
// given as exact sums of their cents and squared cents. Both 0 without
// amounts; stddev 0 below 2. REQUIRES: count >= 0; the sums are those of at
// most `count` amounts within ±kMaxAbsCents.
struct AmountMoments {
  double mean = 0;
  double stddev = 0;
};
AmountMoments amount_moments(int64_t count, Int128 cents, Int128 squared_cents);

namespace card_features_detail {

enum Window : std::size_t { kMinute, kHour, kDay, kThirtyDays, kWindowCount };

// A transaction as its card keeps it: what later features read.
struct StoredTransaction {
  Timestamp time = 0;
  int64_t cents = 0;
  double latitude = 0;
  double longitude = 0;
  uint32_t merchant = 0;  // MerchantDictionary code
};

// Merchant ids interned for the whole task: many cards share few merchants,
// so a card stores 4-byte codes. A code is freed when no kept transaction
// refers to it.
class MerchantDictionary {
 public:
  // The id's code, with one more reference.
  uint32_t acquire(std::string_view merchant_id);
  // Drops one reference. REQUIRES: code came from acquire() and was not released as often.
  void release(uint32_t code);
  const std::string& id(uint32_t code) const { return slots_[code].id; }
  std::size_t size() const { return codes_.size(); }

 private:
  struct Slot {
    std::string id;
    uint64_t references = 0;  // 0: free, listed in free_
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  key_table_detail::Map<std::string, uint32_t> codes_;
};

// One card's transactions of the last 30 days and its running window totals.
class CardHistory {
 public:
  // Adds the card's newest arrival and returns its features. REQUIRES: the
  // transaction is not late for the watermark drop_expired() last saw.
  CardFeatures add(const StoredTransaction& transaction);

  // Drops the transactions whose 30 days have passed (time + 30 days <=
  // watermark), releasing their merchants.
  void drop_expired(Timestamp watermark, MerchantDictionary& merchants);

  bool empty() const { return dropped_ == transactions_.size(); }
  // Kept transactions, sorted by (time, arrival).
  std::span<const StoredTransaction> transactions() const {
    return std::span<const StoredTransaction>(transactions_).subspan(dropped_);
  }

 private:
  // Totals over transactions_[begin, end()) for one window size: those of
  // the card's newest time's window. Counts are index differences.
  struct Totals {
    Int128 cents = 0;
    Int128 squared_cents = 0;
    void add(const StoredTransaction& transaction);
    void remove(const StoredTransaction& transaction);
  };
  struct RunningWindow {
    std::size_t begin = 0;
    Totals totals;
  };

  void enter(Window w, const StoredTransaction& transaction);
  void leave(Window w, const StoredTransaction& transaction);
  void count_merchant(uint32_t code);
  void uncount_merchant(uint32_t code);
  int64_t distinct_merchants_between(std::size_t first, std::size_t last);
  void compact();

  std::vector<StoredTransaction> transactions_;  // sorted by (time, arrival); [0, dropped_) are dropped
  std::size_t dropped_ = 0;
  std::array<RunningWindow, kWindowCount> windows_{};
  absl::flat_hash_map<uint32_t, uint32_t> merchants_in_day_;  // code -> count in windows_[kDay]
};

}  // namespace card_features_detail

class CardFeaturesOperator {
 public:
  using input_type = jobs::Transaction;
  using output_type = FeaturedTransaction;

  void bind(StageContext& context) { context_ = &context; }

  // Emits the transaction with its features (meta.key = card id), unless late.
  template <class Emit>
  void process(Element<jobs::Transaction>&& e, Emit& emit) {
    Element<FeaturedTransaction> result;
    const std::string* card_id = add(e.value, e.meta.timestamp, result.value.features);
    if (card_id == nullptr) return;  // late
    result.meta = e.meta;
    result.meta.key = *card_id;  // the stored id: valid while emit() runs
    result.value.transaction = std::move(e.value);
    emit(std::move(result));
  }

  template <class Emit>
  void on_watermark(Timestamp watermark, Emit&) {
    advance_watermark(watermark);
  }

  // Writes the cards changed since the last checkpoint, and the watermark.
  void checkpoint(StateWriter& out);
  // Rebuilds the state from the entries of checkpoint() calls. On malformed
  // entries returns a Corruption status and changes nothing.
  [[nodiscard]] Status restore(StateReader& in);

  std::size_t card_count() const { return cards_.size(); }
  std::size_t merchant_count() const { return merchants_.size(); }

 private:
  // Per card, its history; its timer is when the oldest transaction's 30 days end.
  using CardTable = KeyTable<std::string, card_features_detail::CardHistory>;

  // Adds the transaction and fills `features`; returns the stored card id,
  // or nullptr (reported) if it is late.
  const std::string* add(const jobs::Transaction& transaction, Timestamp time, CardFeatures& features);
  void advance_watermark(Timestamp watermark);
  void schedule_expiry(CardTable::Entry& card);
  Result<card_features_detail::CardHistory> read_card(std::string_view value);

  StageContext* context_ = nullptr;
  Timestamp watermark_ = kMinTimestamp;
  card_features_detail::MerchantDictionary merchants_;
  CardTable cards_;
};

// What Pipeline::then() takes: card_features() after event_time(...).
struct CardFeaturesSpec {
  template <class T>
  CardFeaturesOperator make_stage() const {
    static_assert(std::is_same_v<T, jobs::Transaction>,
                  "card_features() takes a stream of kappa::jobs::Transaction, with event_time(...) earlier "
                  "in the pipeline");
    return CardFeaturesOperator();
  }
};

inline CardFeaturesSpec card_features() { return {}; }

}  // namespace kappa::fraud
