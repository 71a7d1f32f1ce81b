#include "connectors/kafka/kafka_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "runtime/iso_time.h"

namespace kappa {
namespace {

bool header_at(const void* native, std::size_t index, Header& out) {
  // Safe to cast back: Headers only ever gets this function with a message.
  auto* m = static_cast<rd_kafka_message_t*>(const_cast<void*>(native));
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_all(headers, index, &name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  out = {name, {static_cast<const char*>(value), size}};
  return true;
}

// Reads one partition's queue for its task; for a bounded replay, only the
// partition's range.
class KafkaPartitionReader final : public PartitionReader {
 public:
  KafkaPartitionReader(rd_kafka_queue_t* queue, std::optional<OffsetRange> range)
      : queue_(queue), range_(range), ended_(range && range->start >= range->end) {}

  ~KafkaPartitionReader() override {
    // Disabling the event callback takes the queue's lock, so once it
    // returns no callback into this object is running or will run.
    rd_kafka_queue_cb_event_enable(queue_.get(), nullptr, nullptr);
    release_messages();
  }

  void set_wakeup(std::function<void()> wakeup) override {
    wakeup_ = std::move(wakeup);
    // librdkafka calls this when a message lands on the empty queue.
    rd_kafka_queue_cb_event_enable(
        queue_.get(), [](rd_kafka_t*, void* self) { static_cast<KafkaPartitionReader*>(self)->wakeup_(); }, this);
  }

  Result<ReadStatus> read(std::vector<Record>& batch, std::size_t max_records) override {
    release_messages();
    batch.clear();
    if (ended_) return ReadStatus::kEndOfRange;
    messages_.resize(max_records);
    const ssize_t n = rd_kafka_consume_batch_queue(queue_.get(), 0, messages_.data(), max_records);
    if (n < 0) return Status::internal("reading a partition queue failed: " + kafka_error_text(rd_kafka_last_error()));
    held_ = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < held_; ++i) {
      rd_kafka_message_t* m = messages_[i];
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // m->offset is where the next record would be. It passes the end even
        // when the last offsets of the range hold transaction markers, which
        // no consumer receives.
        if (range_ && m->offset >= range_->end) ended_ = true;
        continue;
      }
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Retriable fetch errors arrive in-band; librdkafka retries by
        // itself, so they are worth a line, not a failure.
        spdlog::warn("consumer: {}", rd_kafka_message_errstr(m));
        continue;
      }
      if (ended_ || (range_ && m->offset >= range_->end)) {
        ended_ = true;  // beyond the pinned end: not part of this run
        continue;
      }
      if (range_ && m->offset + 1 >= range_->end) ended_ = true;
      Record r;
      r.key = {static_cast<const char*>(m->key), m->key_len};
      r.value = {static_cast<const char*>(m->payload), m->len};
      r.timestamp = rd_kafka_message_timestamp(m, nullptr);
      r.partition = m->partition;
      r.offset = m->offset;
      r.headers = Headers(m, &header_at);
      batch.push_back(r);
    }
    if (!batch.empty()) return ReadStatus::kRecords;
    if (ended_) return ReadStatus::kEndOfRange;
    return held_ == 0 ? ReadStatus::kEmpty : read(batch, max_records);
  }

  int64_t end_of_range() const override { return range_ ? std::max(range_->start, range_->end) : -1; }

 private:
  void release_messages() {
    for (std::size_t i = 0; i < held_; ++i) rd_kafka_message_destroy(messages_[i]);
    held_ = 0;
  }

  KafkaQueue queue_;
  const std::optional<OffsetRange> range_;
  bool ended_;  // the range is read: no record from here on is returned
  std::function<void()> wakeup_;
  std::vector<rd_kafka_message_t*> messages_;
  std::size_t held_ = 0;
};

PartitionId id_of(const rd_kafka_topic_partition_t& tp) { return {tp.topic, tp.partition}; }

// Replaces the timestamp in the offset field of each element of `query`
// with the first offset at or after it; the end offset where no record is
// that late.
Status offsets_at(rd_kafka_t* consumer, rd_kafka_topic_partition_list_t* query, std::chrono::milliseconds timeout) {
  if (query->cnt == 0) return Status::ok();
  KAPPA_RETURN_IF_ERROR(list_offsets(consumer, query, timeout));
  KafkaPartitionList latest(rd_kafka_topic_partition_list_new(query->cnt));
  for (int i = 0; i < query->cnt; ++i) {
    if (query->elems[i].offset < 0) {
      rd_kafka_topic_partition_list_add(latest.get(), query->elems[i].topic, query->elems[i].partition)->offset =
          kListLatest;
    }
  }
  if (latest->cnt == 0) return Status::ok();
  KAPPA_RETURN_IF_ERROR(list_offsets(consumer, latest.get(), timeout));
  for (int i = 0; i < latest->cnt; ++i) {
    const rd_kafka_topic_partition_t& end = latest->elems[i];
    rd_kafka_topic_partition_list_find(query, end.topic, end.partition)->offset = end.offset;
  }
  return Status::ok();
}

}  // namespace

KafkaSource::KafkaSource(KafkaSourceOptions options) : options_(std::move(options)) {}

KafkaSource::~KafkaSource() {
  if (consumer_ && !closed_) (void)close();
}

Status KafkaSource::start(SourceListener& listener) {
  listener_ = &listener;
  const std::map<std::string, std::string> defaults{
      {"group.id", options_.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", options_.from == StartPosition::kLatest ? "latest" : "earliest"},
      {"client.id", "kappa-" + options_.group_id},
      // Each assigned partition has its own queue, and librdkafka's prefetch
      // limit applies to each: 16 MiB a partition keeps a process with many
      // partitions within a few hundred MiB (the default, 64 MiB, does not).
      {"queued.max.messages.kbytes", "16384"},
      // A bounded replay sees where each partition ends, even when its last
      // offsets are transaction markers.
      {"enable.partition.eof", bounded() ? "true" : "false"},
  };
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kConsumer, options_.client, defaults));
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaSource::rebalance_callback);
  KAPPA_ASSIGN_OR_RETURN(consumer_, make_kafka_client(KafkaRole::kConsumer, std::move(conf)));
  KAPPA_ASSIGN_OR_RETURN(
      auto partition_counts,
      describe_topics(consumer_.get(), options_.topics, options_.client.brokers, options_.client.connect_timeout));
  if (bounded()) KAPPA_RETURN_IF_ERROR(pin_ends(partition_counts));
  KafkaPartitionList subscription(rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size())));
  for (const std::string& topic : options_.topics) {
    rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), subscription.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::unavailable("cannot subscribe: " + kafka_error_text(err));
  rd_kafka_poll_set_consumer(consumer_.get());
  spdlog::info("consuming {} as group '{}'", fmt::join(options_.topics, ","), options_.group_id);
  return Status::ok();
}

void KafkaSource::rebalance_callback(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                     void* opaque) {
  static_cast<KafkaSource*>(opaque)->on_rebalance(err, partitions);
}

void KafkaSource::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assign(partitions);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    revoke(partitions);
  } else {
    rebalance_error_ = Status::unavailable("consumer group rebalance failed: " + kafka_error_text(err));
    revoke(partitions);
  }
}

Status KafkaSource::pin_ends(const std::map<std::string, int>& partition_counts) {
  KafkaPartitionList query(rd_kafka_topic_partition_list_new(0));
  for (const auto& [topic, count] : partition_counts) {
    for (int32_t p = 0; p < count; ++p) {
      rd_kafka_topic_partition_list_add(query.get(), topic.c_str(), p)->offset =
          options_.until == EndPosition::kTime ? options_.until_time_ms : kListLatest;
    }
  }
  Status pinned = offsets_at(consumer_.get(), query.get(), options_.client.connect_timeout);
  if (!pinned.is_ok()) return Status::unavailable("cannot pin where the replay ends: " + pinned.message());
  for (int i = 0; i < query->cnt; ++i) ends_[id_of(query->elems[i])] = query->elems[i].offset;
  spdlog::info("bounded replay: reading {} partition(s) up to the offsets they had at {}", ends_.size(),
               options_.until == EndPosition::kTime ? format_iso_time(options_.until_time_ms) : "the start");
  return Status::ok();
}

Status KafkaSource::set_start_offsets(rd_kafka_topic_partition_list_t* partitions) {
  const auto timeout = options_.client.connect_timeout;
  // Partitions whose start is looked up by timestamp, and those whose start
  // is the group's committed offset but must be known as a number.
  KafkaPartitionList by_time(rd_kafka_topic_partition_list_new(partitions->cnt));
  KafkaPartitionList by_group(rd_kafka_topic_partition_list_new(partitions->cnt));
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    const PartitionId id = id_of(tp);
    const bool first_time = seen_.insert(id).second;
    std::optional<int64_t> resume = options_.resume_offset ? options_.resume_offset(id) : std::nullopt;
    int64_t lookup = RD_KAFKA_OFFSET_INVALID;  // a ListOffsets timestamp, when the start needs one
    if (resume) {
      tp.offset = *resume;
    } else if (first_time && options_.from == StartPosition::kTime) {
      lookup = options_.from_time_ms;
    } else if (first_time && options_.from == StartPosition::kOffsets) {
      auto listed = options_.from_offsets.find(id);
      if (listed != options_.from_offsets.end()) {
        tp.offset = listed->second;
      } else {
        spdlog::info("{} is not listed in the --from offsets file: reading it from its earliest offset",
                     id.to_string());
        tp.offset = RD_KAFKA_OFFSET_BEGINNING;
      }
    } else if (first_time && options_.from != StartPosition::kCommitted) {
      tp.offset = options_.from == StartPosition::kEarliest ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    } else {
      tp.offset = RD_KAFKA_OFFSET_INVALID;  // the group's position
    }
    // A bounded replay counts its progress from the start, so every start
    // becomes a number.
    if (bounded() && tp.offset == RD_KAFKA_OFFSET_BEGINNING) lookup = kListEarliest;
    if (bounded() && tp.offset == RD_KAFKA_OFFSET_END) lookup = kListLatest;
    if (lookup != RD_KAFKA_OFFSET_INVALID) {
      rd_kafka_topic_partition_list_add(by_time.get(), tp.topic, tp.partition)->offset = lookup;
    } else if (bounded() && tp.offset == RD_KAFKA_OFFSET_INVALID) {
      rd_kafka_topic_partition_list_add(by_group.get(), tp.topic, tp.partition);
    }
  }
  if (by_group->cnt > 0) {
    rd_kafka_resp_err_t err = rd_kafka_committed(consumer_.get(), by_group.get(), static_cast<int>(timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::unavailable("cannot read the group's committed offsets: " + kafka_error_text(err));
    }
    for (int i = 0; i < by_group->cnt; ++i) {
      rd_kafka_topic_partition_t& committed = by_group->elems[i];
      if (committed.offset >= 0) {
        rd_kafka_topic_partition_list_find(partitions, committed.topic, committed.partition)->offset = committed.offset;
      } else {  // no position yet: auto.offset.reset's choice
        rd_kafka_topic_partition_list_add(by_time.get(), committed.topic, committed.partition)->offset =
            options_.from == StartPosition::kLatest ? kListLatest : kListEarliest;
      }
    }
  }
  KAPPA_RETURN_IF_ERROR(offsets_at(consumer_.get(), by_time.get(), timeout));
  for (int i = 0; i < by_time->cnt; ++i) {
    const rd_kafka_topic_partition_t& found = by_time->elems[i];
    rd_kafka_topic_partition_list_find(partitions, found.topic, found.partition)->offset = found.offset;
  }
  return Status::ok();
}

void KafkaSource::assign(rd_kafka_topic_partition_list_t* partitions) {
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  Status started = set_start_offsets(partitions);
  if (!started.is_ok()) {
    rebalance_error_ = Status(started.code(), "cannot start reading the assigned partitions: " + started.message());
    return;
  }
  std::vector<std::pair<PartitionId, std::unique_ptr<PartitionReader>>> readers;
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    PartitionId id = id_of(tp);
    std::optional<OffsetRange> range;
    if (bounded()) {
      // A partition created after the ends were pinned has nothing to replay.
      auto end = ends_.find(id);
      range = OffsetRange{tp.offset, end != ends_.end() ? end->second : 0};
      ranges_[id] = *range;
    }
    // Detach the partition's queue from the main consumer queue before the
    // assignment starts fetching, so no message reaches the main queue.
    rd_kafka_queue_t* queue = rd_kafka_queue_get_partition(consumer_.get(), tp.topic, tp.partition);
    rd_kafka_queue_forward(queue, nullptr);
    readers.emplace_back(std::move(id), std::make_unique<KafkaPartitionReader>(queue, range));
  }
  rd_kafka_error_t* error = nullptr;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (cooperative) {
    error = rd_kafka_incremental_assign(consumer_.get(), partitions);
  } else {
    err = rd_kafka_assign(consumer_.get(), partitions);
  }
  if (error != nullptr || err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rebalance_error_ = Status::unavailable(std::string("cannot take the assigned partitions: ") +
                                           (error ? rd_kafka_error_string(error) : rd_kafka_err2str(err)));
    if (error) rd_kafka_error_destroy(error);
    return;
  }
  for (auto& [id, reader] : readers) {
    assigned_.insert(id);
    listener_->on_assigned(id, std::move(reader));
  }
  spdlog::info("assigned {} partition(s); {} in all", partitions->cnt, assigned_.size());
}

void KafkaSource::revoke(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<PartitionId> revoked;
  for (int i = 0; i < partitions->cnt; ++i) {
    PartitionId id = id_of(partitions->elems[i]);
    ranges_.erase(id);
    if (assigned_.erase(id) > 0) revoked.push_back(std::move(id));
  }
  // The tasks finish their batch, their outputs are flushed and their
  // positions committed before the partitions go to another member.
  if (!revoked.empty()) listener_->on_revoked(revoked);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_.get(), partitions)) {
      rd_kafka_error_destroy(error);
    }
  } else {
    rd_kafka_assign(consumer_.get(), nullptr);
  }
  spdlog::info("revoked {} partition(s); {} left", revoked.size(), assigned_.size());
}

Status KafkaSource::poll(std::chrono::milliseconds timeout) {
  rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(timeout.count()));
  if (!rebalance_error_.is_ok()) return rebalance_error_;
  if (m == nullptr) return Status::ok();
  std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(m, rd_kafka_message_destroy);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Cannot happen while every partition queue is detached; say so loudly
    // rather than process a record out of its task.
    return Status::internal("a record reached the consumer's main queue instead of its partition's queue");
  }
  char reason[512];
  if (rd_kafka_fatal_error(consumer_.get(), reason, sizeof reason) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::unavailable(std::string("the Kafka consumer failed: ") + reason);
  }
  switch (m->err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
      return Status::unavailable("the Kafka consumer failed: " + std::string(rd_kafka_message_errstr(m)));
    default:
      // Broker down, timeouts: librdkafka reconnects and retries by itself.
      spdlog::warn("consumer: {}", rd_kafka_message_errstr(m));
      return Status::ok();
  }
}

Status KafkaSource::commit(const std::vector<PartitionPosition>& positions) {
  KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
  for (const PartitionPosition& p : positions) {
    rd_kafka_topic_partition_list_add(offsets.get(), p.partition.topic.c_str(), p.partition.partition)->offset =
        p.next_offset;
  }
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), offsets.get(), /*async=*/0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::unavailable("offset commit failed: " + kafka_error_text(err));
  return Status::ok();
}

std::map<PartitionId, int64_t> KafkaSource::end_offsets() const {
  std::map<PartitionId, int64_t> ends;
  for (const PartitionId& id : assigned_) {
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(consumer_.get(), id.topic.c_str(), id.partition, &low, &high) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      ends[id] = high;
    }
  }
  return ends;
}

KafkaGroupMetadata KafkaSource::group_metadata() const {
  if (!consumer_) return nullptr;
  return KafkaGroupMetadata(rd_kafka_consumer_group_metadata(consumer_.get()));
}

Status KafkaSource::close() {
  if (!consumer_ || closed_) return Status::ok();
  closed_ = true;
  // Revokes the assignment through the rebalance callback (so tasks stop and
  // commit) and leaves the group, so the partitions move without waiting for
  // a session timeout.
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(consumer_.get());
  if (!assigned_.empty()) {
    std::vector<PartitionId> rest(assigned_.begin(), assigned_.end());
    assigned_.clear();
    listener_->on_revoked(rest);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::unavailable("leaving the group failed: " + kafka_error_text(err));
  return Status::ok();
}

}  // namespace kappa
