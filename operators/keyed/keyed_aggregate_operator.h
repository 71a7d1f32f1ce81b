// KeyedAggregateOperator: a running aggregate per key, emitted after every
// event (a KTable of the key's aggregate, in Kafka Streams' terms).
//
// With a TTL, a key's state expires once event time (the watermark, or the
// key's next event's time) reaches its last event's time plus the TTL; the
// key's next event then starts from scratch. The
// TTL is in event time, so a replay expires state exactly where the live run
// did (it needs event_time() earlier in the pipeline; without a watermark,
// state never expires).
//
// Checkpoints (runtime/state.h, layout in key_table.h): one entry per key,
// its latest event time and its accumulator (the aggregate must be a
// SerializableAggregate); the meta entry holds only the format version.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "operators/aggregate/aggregate.h"
#include "operators/keyed/key.h"
#include "operators/keyed/key_table.h"
#include "runtime/encoding.h"
#include "runtime/record.h"
#include "runtime/state.h"
#include "runtime/status.h"

namespace kappa {

template <class K, class R>
struct KeyedResult {
  K key;
  R value;
};

template <class T, class KeyFn, class Agg>
class KeyedAggregateOperator {
 public:
  using K = stored_key_t<std::invoke_result_t<const KeyFn&, const T&>>;
  using Acc = typename Agg::accumulator_type;
  using R = typename Agg::result_type;
  using input_type = T;
  using output_type = KeyedResult<K, R>;

  // ttl 0: state never expires.
  KeyedAggregateOperator(KeyFn key_of, Agg agg, std::chrono::milliseconds ttl)
      : key_of_(std::move(key_of)), agg_(std::move(agg)), ttl_(ttl.count()) {}

  template <class Emit>
  void process(Element<T>&& e, Emit& emit) {
    auto& entry = keys_.find_or_add(key_of_(std::as_const(e.value)));
    KeyState& state = entry.second.state;
    // The key's own event can show the state expired before any watermark does.
    const bool expired = ttl_ > 0 && state.started && e.meta.timestamp - state.last_time >= ttl_;
    if (!state.started || expired) {
      state.acc = agg_.init();
      state.started = true;
      state.last_time = kMinTimestamp;
    }
    agg_.add(state.acc, std::as_const(e.value), e.meta.timestamp);
    state.last_time = std::max(state.last_time, e.meta.timestamp);
    if (ttl_ > 0) keys_.schedule(entry, state.last_time + ttl_);

    key_bytes_.clear();
    append_key_bytes(entry.first, key_bytes_);
    Element<output_type> result;
    result.meta = e.meta;
    result.meta.key = key_bytes_;
    result.value.key = entry.first;
    result.value.value = agg_.result(state.acc);
    emit(std::move(result));
  }

  template <class Emit>
  void on_watermark(Timestamp watermark, Emit&) {
    if (ttl_ == 0) return;
    keys_.run_timers(watermark, [&](typename Table::Entry& entry) {
      const KeyState& state = entry.second.state;
      // A later event moved the expiry: the timer is set again for it.
      if (watermark == kMaxTimestamp || watermark - state.last_time >= ttl_) {
        keys_.forget(entry.first);
      } else {
        keys_.schedule(entry, state.last_time + ttl_);
      }
    });
  }

  // Under --state-memory: see KeyTable::shed_memory.
  void shed_memory() { keys_.shed_memory(); }

  void checkpoint(StateWriter& out) {
    static_assert(SerializableAggregate<Agg>,
                  "checkpoint(): the aggregate must serialize its accumulators "
                  "(SerializableAggregate in operators/aggregate/aggregate.h)");
    std::string meta;
    encoding::put_u8(meta, kFormatVersion);
    keys_.checkpoint(out, meta, [&](const K&, const KeyState& state, std::string& value) {
      encoding::put_i64(value, state.last_time);
      agg_.serialize(state.acc, value);
    });
  }

  [[nodiscard]] Status restore(StateReader& in) {
    static_assert(SerializableAggregate<Agg>,
                  "restore(): the aggregate must serialize its accumulators "
                  "(SerializableAggregate in operators/aggregate/aggregate.h)");
    auto bad = [](const char* what) { return Status::corruption(std::string("keyed aggregate state: ") + what); };
    return keys_.restore(
        in,
        [&](std::string_view meta) {
          uint8_t version;
          if (!encoding::get_u8(meta, version) || version != kFormatVersion || !meta.empty()) {
            return bad("unknown meta entry (another format version?)");
          }
          return Status::ok();
        },
        [this, bad](const K&, std::string_view value) -> Result<KeyState> {
          KeyState state;
          state.started = true;
          if (!encoding::get_i64(value, state.last_time) || !agg_.deserialize(value, state.acc) || !value.empty()) {
            return bad("a key's entry does not decode");
          }
          return state;
        });
  }

  std::size_t key_count() const { return keys_.size(); }

 private:
  static constexpr uint8_t kFormatVersion = 1;

  struct KeyState {
    Acc acc{};
    bool started = false;
    Timestamp last_time = kMinTimestamp;
  };

  KeyFn key_of_;
  Agg agg_;
  int64_t ttl_;
  using Table = KeyTable<K, KeyState>;
  Table keys_;
  std::string key_bytes_;
};

}  // namespace kappa
