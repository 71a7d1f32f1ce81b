#include "connectors/kafka/kafka_source.h"

#include <spdlog/spdlog.h>

#include <cstring>

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

// Reads one partition's queue for its task.
class KafkaPartitionReader final : public PartitionReader {
 public:
  explicit KafkaPartitionReader(rd_kafka_queue_t* queue) : queue_(queue) {}

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
    messages_.resize(max_records);
    const ssize_t n = rd_kafka_consume_batch_queue(queue_.get(), 0, messages_.data(), max_records);
    if (n < 0) return Status::internal("reading a partition queue failed: " + kafka_error_text(rd_kafka_last_error()));
    held_ = static_cast<std::size_t>(n);
    for (std::size_t i = 0; i < held_; ++i) {
      rd_kafka_message_t* m = messages_[i];
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Partition EOF and retriable fetch errors arrive in-band; librdkafka
        // retries by itself, so they are worth a line, not a failure.
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          spdlog::warn("consumer: {}", rd_kafka_message_errstr(m));
        }
        continue;
      }
      Record r;
      r.key = {static_cast<const char*>(m->key), m->key_len};
      r.value = {static_cast<const char*>(m->payload), m->len};
      r.timestamp = rd_kafka_message_timestamp(m, nullptr);
      r.partition = m->partition;
      r.offset = m->offset;
      r.headers = Headers(m, &header_at);
      batch.push_back(r);
    }
    if (batch.empty()) return held_ == 0 ? ReadStatus::kEmpty : read(batch, max_records);
    return ReadStatus::kRecords;
  }

 private:
  void release_messages() {
    for (std::size_t i = 0; i < held_; ++i) rd_kafka_message_destroy(messages_[i]);
    held_ = 0;
  }

  KafkaQueue queue_;
  std::function<void()> wakeup_;
  std::vector<rd_kafka_message_t*> messages_;
  std::size_t held_ = 0;
};

PartitionId id_of(const rd_kafka_topic_partition_t& tp) { return {tp.topic, tp.partition}; }

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
  };
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kConsumer, options_.client, defaults));
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaSource::rebalance_callback);
  KAPPA_ASSIGN_OR_RETURN(consumer_, make_kafka_client(KafkaRole::kConsumer, std::move(conf)));
  KAPPA_RETURN_IF_ERROR(
      describe_topics(consumer_.get(), options_.topics, options_.client.brokers, options_.client.connect_timeout)
          .status());
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

void KafkaSource::assign(rd_kafka_topic_partition_list_t* partitions) {
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  std::vector<std::pair<PartitionId, std::unique_ptr<PartitionReader>>> readers;
  for (int i = 0; i < partitions->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = partitions->elems[i];
    PartitionId id = id_of(tp);
    const bool first_time = seen_.insert(id).second;
    std::optional<int64_t> resume = options_.resume_offset ? options_.resume_offset(id) : std::nullopt;
    if (resume) {
      tp.offset = *resume;
    } else if (first_time && options_.from != StartPosition::kCommitted) {
      tp.offset = options_.from == StartPosition::kEarliest ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    }
    // Detach the partition's queue from the main consumer queue before the
    // assignment starts fetching, so no message reaches the main queue.
    rd_kafka_queue_t* queue = rd_kafka_queue_get_partition(consumer_.get(), tp.topic, tp.partition);
    rd_kafka_queue_forward(queue, nullptr);
    readers.emplace_back(std::move(id), std::make_unique<KafkaPartitionReader>(queue));
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
