// TransactionGenerator: a labelled stream of synthetic card transactions,
// legitimate traffic with fraud incidents woven in, for exercising and
// measuring the fraud-scoring job: the job scores the transactions, a report
// compares its scores with the labels.
//
// Deterministic: the same options give the same stream, byte for byte, on
// any host (see deterministic_random.h).
//
// Transaction i (from 0) is "tx-<i>" with event time
// start_ms + floor(i * 1000 / rate): the intended send time of an open-loop
// sender at `rate` per second. It is either a legitimate purchase or the next
// due step of a fraud incident.
//
// Legitimate purchases: a card picked by activity (mostly within its usual
// local hours) buys from one of its usual merchants, favourites more often,
// an amount around its typical one, at a shop or ATM near home or online
// (located at the buyer's device, near home).
//
// Fraud incidents, each on one card, every step labelled with the kind:
//   card_testing       5-15 amounts of 0.50-2.00 at online merchants new to
//                      the card, 1-3 s apart
//   large_amount       1-2 amounts 8-30x the card's typical amount at a new
//                      merchant, 30 s-3 min apart
//   impossible_travel  a purchase at a shop in another region, at least
//                      5,500 km away, within 30 minutes of the card's
//                      previous purchase at home
//   merchant_burst     5-10 ordinary amounts at merchants new to the card,
//                      2-10 s apart
// Each kind carries one signal, so a report can tell which kinds a detector
// catches. The card's owner keeps using it meanwhile, as happens when a card
// number is stolen. A card has one incident at a time.
//
// Time is compressed: at the defaults a card is used every 10 s on average,
// while incidents keep real-world spacing, so the bursts are dense rather
// than long.
//
// Not thread-safe: one thread owns a generator.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/gen/card_world.h"
#include "jobs/proto/transaction.pb.h"
#include "runtime/record.h"
#include "runtime/status.h"

namespace kappa::gen {

struct GeneratorOptions {
  // The same seed and options give the same stream. Default 1.
  uint64_t seed = 1;
  // Cards in the world, 1 to 1,000,000 (see card_world.h for memory). Default 10,000.
  int64_t cards = 10'000;
  // Transactions per second of event time, more than 0 and at most 10,000,000. Default 1000.
  double rate = 1000;
  // Event time of the first transaction, ms since the epoch. Default 2026-01-01T12:00:00Z.
  Timestamp start_ms = 1'767'268'800'000;
  // Share of the transactions that are fraud, 0 to 0.5. Default 0.01. Met on
  // average over a stream long against the incidents (minutes at 1000/s); with
  // few cards fewer incidents find a card free, so the share comes out lower.
  double fraud_rate = 0.01;
};

inline constexpr std::string_view kLegitKind = "legit";
inline constexpr std::array<std::string_view, 4> kFraudKinds{"card_testing", "large_amount", "impossible_travel",
                                                             "merchant_burst"};

struct LabelledTransaction {
  jobs::Transaction transaction;
  bool fraud = false;
  // kLegitKind or one of kFraudKinds.
  std::string kind;
  // The incident the transaction belongs to, numbered from 1 in the order
  // incidents start; 0 for a legitimate transaction.
  int64_t incident = 0;
};

// The label of a transaction as one JSON object, the labels topic's and
// file's record: {"transaction_id":"tx-7","card_id":"card-000042",
// "fraud":true,"kind":"card_testing","incident":3,"event_time":1767268800007}
std::string label_json(const LabelledTransaction& labelled);

class TransactionGenerator {
 public:
  // OK, or one sentence naming the option that is out of range.
  static Status validate(const GeneratorOptions& options);

  // Draws the world (cards and merchants). REQUIRES: validate(options) is OK.
  explicit TransactionGenerator(GeneratorOptions options);

  // Moves the schedule to begin at start_ms, for a sender that reads the
  // clock after drawing the world (a million cards take a second).
  // REQUIRES: next() was not called yet (checked).
  void set_start(Timestamp start_ms);

  // Transaction i on the i-th call (from 0).
  LabelledTransaction next();

  // Event time of transaction i.
  Timestamp event_time(int64_t i) const;

  const GeneratorOptions& options() const { return options_; }
  const CardWorld& world() const { return world_; }

 private:
  enum Kind : int { kCardTesting, kLargeAmount, kImpossibleTravel, kMerchantBurst };

  // A step of an incident, waiting for its transaction index.
  struct PendingStep {
    int64_t due = 0;    // the first index it may take
    int64_t order = 0;  // ties in `due` go in scheduling order
    int64_t card = 0;
    bool ends_incident = false;
    LabelledTransaction labelled;
  };
  struct CardState {
    Timestamp last_time = kMinTimestamp;  // of its latest transaction; kMinTimestamp before the first
    bool last_abroad = false;             // its latest transaction was an impossible_travel one
    bool in_incident = false;
  };

  void maybe_start_incident(int64_t index, Timestamp now);
  // A card free for an incident of `kind`, or -1 if none of a few tried is.
  int64_t pick_incident_card(Kind kind, Timestamp now);
  jobs::Transaction fraud_step(Kind kind, int64_t card, int far_city, std::vector<int32_t>& taken);
  int64_t pick_legit_card(Timestamp now);
  jobs::Transaction legit_transaction(int64_t card);
  bool in_active_hours(const CardProfile& card, Timestamp now) const;
  // An amount drawn around the card's typical one.
  double usual_amount(const CardProfile& card);
  jobs::Transaction make_transaction(int64_t card, int32_t merchant, double amount);
  // Heap order for pending_: the earliest (due, order) on top.
  static bool runs_later(const PendingStep& a, const PendingStep& b);
  // Moves the earliest pending step into `step` if it is due at `index`.
  bool pop_due_step(int64_t index, PendingStep& step);

  GeneratorOptions options_;
  DeterministicRandom random_;
  CardWorld world_;
  double incident_start_probability_ = 0;
  std::vector<CardState> card_states_;
  std::vector<PendingStep> pending_;  // a min-heap on (due, order)
  int64_t next_index_ = 0;
  int64_t incidents_ = 0;
  int64_t steps_scheduled_ = 0;
};

}  // namespace kappa::gen
