#include "jobs/enrich/enrich.h"

#include <cmath>
#include <string_view>

namespace kappa::jobs {
namespace {

// A fixed table is enough for a demo; a real job would join a rates topic.
double to_eur(double amount, std::string_view currency) {
  if (currency == "USD") return amount * 0.92;
  if (currency == "GBP") return amount * 1.17;
  if (currency == "CHF") return amount * 1.05;
  return amount;  // EUR, and anything unknown is taken as EUR
}

const char* band_of(double amount_eur) {
  if (amount_eur < 20) return "small";
  if (amount_eur < 500) return "medium";
  return "large";
}

}  // namespace

EnrichedTransaction enrich(const Transaction& transaction) {
  EnrichedTransaction out;
  *out.mutable_transaction() = transaction;
  const double eur = std::round(to_eur(transaction.amount(), transaction.currency()) * 100) / 100;  // cents
  out.set_amount_eur(eur);
  out.set_amount_band(band_of(eur));
  constexpr int64_t kMsPerHour = 3'600'000;
  const int64_t hours = transaction.event_time() / kMsPerHour;
  out.set_hour_of_day(static_cast<int32_t>(((hours % 24) + 24) % 24));
  return out;
}

}  // namespace kappa::jobs
