#include "jobs/window_agg/json_aggregate.h"

#include <type_traits>
#include <utility>

#include "jobs/window_agg/record_fields.h"
#include "operators/aggregate/encoding.h"
#include "runtime/status.h"

namespace kappa::window_agg {
namespace {

AggregateValue to_value(int64_t v) { return v; }
AggregateValue to_value(double v) { return v; }
AggregateValue to_value(const std::optional<double>& v) { return v ? AggregateValue(*v) : AggregateValue(); }

template <class A>
using acc_of = typename std::decay_t<A>::accumulator_type;

// A distinct slot's input: its field's text (a string's content, any other
// value's JSON); missing and null fields have no value.
std::optional<std::string_view> distinct_text(const JsonRecord& record, std::string_view field) {
  const std::optional<JsonField> f = record.find(field);
  if (!f || f->kind == JsonKind::kNull) return std::nullopt;
  return f->text();
}

}  // namespace

template <class F>
decltype(auto) JsonAggregate::visit_builtin(AggregateKind kind, F&& f) const {
  switch (kind) {
    case AggregateKind::kCount:
      return f(count_);
    case AggregateKind::kSum:
      return f(sum_);
    case AggregateKind::kMin:
      return f(min_);
    case AggregateKind::kMax:
      return f(max_);
    case AggregateKind::kMean:
      return f(mean_);
    case AggregateKind::kVariance:
      return f(variance_);
    case AggregateKind::kStddev:
      return f(stddev_);
    case AggregateKind::kFirst:
      return f(first_);
    case AggregateKind::kLast:
      return f(last_);
    case AggregateKind::kDistinct:
      return f(distinct_);
  }
  KAPPA_CHECK(false, "unknown aggregate kind");
  __builtin_unreachable();
}

JsonAggregate::JsonAggregate(std::vector<AggregateSpec> specs, std::string value_field)
    : specs_(std::move(specs)), value_field_(std::move(value_field)) {
  KAPPA_CHECK(!specs_.empty(), "JsonAggregate needs at least one aggregate");
  for (const AggregateSpec& spec : specs_) reads_value_ |= spec.uses_value();
  KAPPA_CHECK(!reads_value_ || !value_field_.empty(), "JsonAggregate: an aggregate over --value needs its field");
}

JsonAggregate::accumulator_type JsonAggregate::init() const {
  accumulator_type acc;
  acc.reserve(specs_.size());
  for (const AggregateSpec& spec : specs_) {
    auto make = [&](const auto& a) { acc.emplace_back(std::in_place_type<acc_of<decltype(a)>>, a.init()); };
    visit_builtin(spec.kind, make);
  }
  return acc;
}

void JsonAggregate::add(accumulator_type& acc, const JsonRecord& record, Timestamp ts) const {
  SlotInput in;
  if (reads_value_) in.number = value_of(record, value_field_);
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const AggregateSpec& spec = specs_[i];
    in.text = spec.kind == AggregateKind::kDistinct ? distinct_text(record, spec.field) : std::nullopt;
    auto fold = [&](const auto& a) { a.add(std::get<acc_of<decltype(a)>>(acc[i]), in, ts); };
    visit_builtin(spec.kind, fold);
  }
}

void JsonAggregate::merge(accumulator_type& acc, const accumulator_type& other) const {
  KAPPA_CHECK(acc.size() == specs_.size() && other.size() == specs_.size(),
              "JsonAggregate::merge: accumulators of another aggregate list");
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    auto combine = [&](const auto& a) {
      using Acc = acc_of<decltype(a)>;
      a.merge(std::get<Acc>(acc[i]), std::get<Acc>(other[i]));
    };
    visit_builtin(specs_[i].kind, combine);
  }
}

JsonAggregate::result_type JsonAggregate::result(const accumulator_type& acc) const {
  result_type values;
  values.reserve(specs_.size());
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    auto get = [&](const auto& a) { return to_value(a.result(std::get<acc_of<decltype(a)>>(acc[i]))); };
    values.push_back(visit_builtin(specs_[i].kind, get));
  }
  return values;
}

void JsonAggregate::serialize(const accumulator_type& acc, std::string& out) const {
  agg::encoding::put_count(out, static_cast<int64_t>(acc.size()));
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    auto put = [&](const auto& a) { a.serialize(std::get<acc_of<decltype(a)>>(acc[i]), out); };
    visit_builtin(specs_[i].kind, put);
  }
}

bool JsonAggregate::deserialize(std::string_view& in, accumulator_type& acc) const {
  int64_t slots = 0;
  if (!agg::encoding::get_count(in, slots) || slots != static_cast<int64_t>(specs_.size())) return false;
  acc = init();
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    auto get = [&](const auto& a) { return a.deserialize(in, std::get<acc_of<decltype(a)>>(acc[i])); };
    if (!visit_builtin(specs_[i].kind, get)) return false;
  }
  return true;
}

}  // namespace kappa::window_agg
