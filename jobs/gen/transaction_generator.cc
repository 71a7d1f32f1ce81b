#include "jobs/gen/transaction_generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kappa::gen {
namespace {

// How many steps an incident of each kind has and how far apart they are,
// in seconds of event time. In the order of kFraudKinds.
struct IncidentShape {
  int min_steps;
  int max_steps;
  double min_gap_s;
  double max_gap_s;
};
constexpr std::array<IncidentShape, kFraudKinds.size()> kShapes{{
    {5, 15, 1, 3},    // card_testing
    {1, 2, 30, 180},  // large_amount
    {1, 1, 0, 0},     // impossible_travel
    {5, 10, 2, 10},   // merchant_burst
}};

// Incidents start with probability fraud_rate / this per transaction.
constexpr double mean_incident_steps() {
  double sum = 0;
  for (const IncidentShape& shape : kShapes) sum += (shape.min_steps + shape.max_steps) / 2.0;
  return sum / static_cast<double>(kShapes.size());
}

constexpr int64_t kMsPerHour = 3'600'000;
// An impossible_travel hop follows the card's purchase at home by at most
// this, so even the shortest one (5,500 km) is faster than 11,000 km/h.
constexpr Timestamp kTravelWindowMs = 30 * 60'000;
// Cards tried to find one free for an incident before the incident is dropped.
constexpr int kIncidentCardTries = 16;
// A card drawn outside its active hours is kept with this probability, else
// another is drawn, up to kLegitCardTries draws.
constexpr double kOffHoursAcceptance = 0.1;
constexpr int kLegitCardTries = 8;
// A card's amounts are its typical amount times 2^(this * normal): within
// about 4.2x either way.
constexpr double kAmountSpreadLog2 = 0.6;
constexpr double kMinAmount = 1.0;
// Online purchases are located at the buyer's device, near home (about 2 km).
constexpr double kDeviceSpreadDegrees = 0.02;

double cents(double amount) { return std::round(amount * 100) / 100; }

// A city of another region than `home`'s.
int far_city(int home, DeterministicRandom& random) {
  std::vector<int> candidates;
  for (int city = 0; city < static_cast<int>(cities().size()); ++city) {
    if (cities()[city].region != cities()[home].region) candidates.push_back(city);
  }
  return candidates[random.between(0, static_cast<int64_t>(candidates.size()) - 1)];
}

// 0.25 rather than std::to_string's 0.250000.
std::string shortest(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

GeneratorOptions checked(GeneratorOptions options) {
  const Status valid = TransactionGenerator::validate(options);
  KAPPA_CHECK(valid.is_ok(), valid.message());
  return options;
}

}  // namespace

std::string label_json(const LabelledTransaction& labelled) {
  // Built by hand: every field is a number, a bool or an id this generator
  // made (letters, digits and '-'), so nothing needs escaping.
  const jobs::Transaction& t = labelled.transaction;
  return R"({"transaction_id":")" + t.transaction_id() + R"(","card_id":")" + t.card_id() + R"(","fraud":)" +
         (labelled.fraud ? "true" : "false") + R"(,"kind":")" + labelled.kind + R"(","incident":)" +
         std::to_string(labelled.incident) + R"(,"event_time":)" + std::to_string(t.event_time()) + "}";
}

Status TransactionGenerator::validate(const GeneratorOptions& options) {
  if (options.cards < 1 || options.cards > 1'000'000) {
    return Status::invalid_argument("cards must be from 1 to 1000000, not " + std::to_string(options.cards));
  }
  // Negated so that NaN fails too.
  if (!(options.rate > 0 && options.rate <= 1e7)) {
    return Status::invalid_argument("rate must be more than 0 and at most 10000000 per second, not " +
                                    shortest(options.rate));
  }
  if (!(options.fraud_rate >= 0 && options.fraud_rate <= 0.5)) {
    return Status::invalid_argument("fraud rate must be from 0 to 0.5, not " + shortest(options.fraud_rate));
  }
  return Status::ok();
}

TransactionGenerator::TransactionGenerator(GeneratorOptions options)
    : options_(checked(options)),
      random_(options_.seed),
      world_(options_.cards, random_),
      incident_start_probability_(options_.fraud_rate / mean_incident_steps()),
      card_states_(options_.cards) {}

Timestamp TransactionGenerator::event_time(int64_t i) const {
  return options_.start_ms + static_cast<Timestamp>(std::floor(static_cast<double>(i) * 1000.0 / options_.rate));
}

void TransactionGenerator::set_start(Timestamp start_ms) {
  KAPPA_CHECK(next_index_ == 0, "TransactionGenerator::set_start after next()");
  options_.start_ms = start_ms;
}

LabelledTransaction TransactionGenerator::next() {
  const int64_t index = next_index_++;
  const Timestamp now = event_time(index);
  maybe_start_incident(index, now);
  LabelledTransaction out;
  int64_t card = 0;
  PendingStep step;
  if (pop_due_step(index, step)) {
    out = std::move(step.labelled);
    card = step.card;
    if (step.ends_incident) card_states_[card].in_incident = false;
  } else {
    card = pick_legit_card(now);
    out.transaction = legit_transaction(card);
    out.kind = kLegitKind;
  }
  out.transaction.set_transaction_id("tx-" + std::to_string(index));
  out.transaction.set_event_time(now);
  CardState& state = card_states_[card];
  state.last_time = now;
  state.last_abroad = out.kind == kFraudKinds[kImpossibleTravel];
  return out;
}

void TransactionGenerator::maybe_start_incident(int64_t index, Timestamp now) {
  if (!random_.chance(incident_start_probability_)) return;
  const auto kind = static_cast<Kind>(random_.between(0, static_cast<int64_t>(kFraudKinds.size()) - 1));
  const int64_t card = pick_incident_card(kind, now);
  if (card < 0) return;
  ++incidents_;
  card_states_[card].in_incident = true;
  const IncidentShape& shape = kShapes[kind];
  const auto steps = static_cast<int>(random_.between(shape.min_steps, shape.max_steps));
  const int city = kind == kImpossibleTravel ? far_city(world_.card(card).city, random_) : -1;
  std::vector<int32_t> taken;  // merchants the incident has used, so that each step's is new too
  double offset_s = 0;
  for (int s = 0; s < steps; ++s) {
    if (s > 0) offset_s += random_.uniform(shape.min_gap_s, shape.max_gap_s);
    PendingStep step;
    step.due = index + std::llround(offset_s * options_.rate);
    step.order = steps_scheduled_++;
    step.card = card;
    step.ends_incident = s == steps - 1;
    step.labelled.transaction = fraud_step(kind, card, city, taken);
    step.labelled.fraud = true;
    step.labelled.kind = kFraudKinds[kind];
    step.labelled.incident = incidents_;
    pending_.push_back(std::move(step));
    std::push_heap(pending_.begin(), pending_.end(), &runs_later);
  }
}

int64_t TransactionGenerator::pick_incident_card(Kind kind, Timestamp now) {
  for (int attempt = 0; attempt < kIncidentCardTries; ++attempt) {
    const int64_t card = random_.between(0, world_.card_count() - 1);
    const CardState& state = card_states_[card];
    if (state.in_incident) continue;
    // Impossible only from a recent purchase at home.
    const bool recently_home =
        state.last_time != kMinTimestamp && !state.last_abroad && now - state.last_time <= kTravelWindowMs;
    if (kind == kImpossibleTravel && !recently_home) continue;
    return card;
  }
  return -1;
}

jobs::Transaction TransactionGenerator::fraud_step(Kind kind, int64_t card_index, int far_city,
                                                   std::vector<int32_t>& taken) {
  const CardProfile& card = world_.card(card_index);
  Channel channel = Channel::kPos;
  int city = card.city;
  double amount = 0;
  switch (kind) {
    case kCardTesting:
      channel = Channel::kOnline;
      amount = random_.uniform(0.5, 2.0);
      break;
    case kLargeAmount:
      channel = random_.chance(0.5) ? Channel::kOnline : Channel::kPos;
      amount = card.typical_amount * random_.uniform(8, 30);
      break;
    case kImpossibleTravel:
      city = far_city;
      amount = usual_amount(card);
      break;
    case kMerchantBurst:
      channel = random_.chance(0.3) ? Channel::kOnline : Channel::kPos;
      amount = usual_amount(card);
      break;
  }
  const int32_t merchant = world_.unfamiliar_merchant(card, channel, city, taken, random_);
  taken.push_back(merchant);
  return make_transaction(card_index, merchant, amount);
}

int64_t TransactionGenerator::pick_legit_card(Timestamp now) {
  for (int attempt = 1;; ++attempt) {
    const int64_t card = world_.pick_by_activity(random_);
    if (attempt == kLegitCardTries || in_active_hours(world_.card(card), now) || random_.chance(kOffHoursAcceptance)) {
      return card;
    }
  }
}

jobs::Transaction TransactionGenerator::legit_transaction(int64_t card_index) {
  const CardProfile& card = world_.card(card_index);
  const double u = random_.uniform();
  const Channel channel = u < card.online_share                    ? Channel::kOnline
                          : u < card.online_share + card.atm_share ? Channel::kAtm
                                                                   : Channel::kPos;
  double amount = usual_amount(card);
  if (channel == Channel::kAtm) amount = std::max(20.0, std::round(amount / 20) * 20);  // cash comes in notes
  return make_transaction(card_index, world_.usual_merchant(card, channel, random_), amount);
}

bool TransactionGenerator::in_active_hours(const CardProfile& card, Timestamp now) const {
  int64_t utc_hour = now / kMsPerHour;
  if (now % kMsPerHour < 0) --utc_hour;  // round down before 1970 too
  const int64_t local_hour = ((utc_hour + cities()[card.city].utc_offset_hours) % 24 + 24) % 24;
  return (local_hour - card.active_from_hour + 24) % 24 < card.active_hours;
}

double TransactionGenerator::usual_amount(const CardProfile& card) {
  return std::max(kMinAmount, card.typical_amount * portable_exp2(kAmountSpreadLog2 * random_.normal()));
}

jobs::Transaction TransactionGenerator::make_transaction(int64_t card_index, int32_t merchant_index, double amount) {
  const CardProfile& card = world_.card(card_index);
  const Merchant& merchant = world_.merchant(merchant_index);
  jobs::Transaction t;
  t.set_card_id(card_id(card_index));
  t.set_merchant_id(merchant.id);
  t.set_amount(cents(amount));
  // Paid in the local currency at a shop or ATM (abroad too), else in the card's.
  t.set_currency(cities()[merchant.city >= 0 ? merchant.city : card.city].currency);
  t.set_merchant_category(merchant.category);
  t.set_channel(channel_name(merchant.channel));
  if (merchant.channel == Channel::kOnline) {
    t.set_latitude(card.home_latitude + kDeviceSpreadDegrees * random_.normal());
    t.set_longitude(card.home_longitude + kDeviceSpreadDegrees * random_.normal());
  } else {
    t.set_latitude(merchant.latitude);
    t.set_longitude(merchant.longitude);
  }
  return t;
}

bool TransactionGenerator::runs_later(const PendingStep& a, const PendingStep& b) {
  return a.due != b.due ? a.due > b.due : a.order > b.order;
}

bool TransactionGenerator::pop_due_step(int64_t index, PendingStep& step) {
  if (pending_.empty() || pending_.front().due > index) return false;
  std::pop_heap(pending_.begin(), pending_.end(), &runs_later);
  step = std::move(pending_.back());
  pending_.pop_back();
  return true;
}

}  // namespace kappa::gen
