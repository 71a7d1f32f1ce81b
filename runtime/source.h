// The interfaces between the runtime and an input connector (Kafka, files).
//
// A Source owns the connection and the partition assignment; for each
// partition it is given it hands the runtime a PartitionReader, which one
// task reads from. The runtime calls Source methods from its coordinator
// thread only, and a PartitionReader from the thread running its task.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/record.h"
#include "runtime/status.h"

namespace kappa {

struct PartitionId {
  std::string topic;
  int32_t partition = 0;

  std::string to_string() const { return topic + "/" + std::to_string(partition); }
  friend bool operator==(const PartitionId&, const PartitionId&) = default;
  friend auto operator<=>(const PartitionId&, const PartitionId&) = default;
};

// The next offset to read from a partition: what a restart resumes from.
struct PartitionPosition {
  PartitionId partition;
  int64_t next_offset = 0;
};

// The offsets a bounded replay reads of a partition: [start, end).
struct OffsetRange {
  int64_t start = 0;
  int64_t end = 0;
};

// Where a job's checkpoint says to resume reading a partition, when it has a
// checkpoint for it (StateBackend::resume_offset).
using ResumeOffset = std::function<std::optional<int64_t>(const PartitionId&)>;

enum class ReadStatus {
  kRecords,  // the batch holds at least one record
  kEmpty,    // nothing now; the reader calls its wake-up function when records arrive
  kEnd,      // a bounded input has no more records, ever: event time is over
  // A bounded replay of a stream (--until) reached its pinned end. The stream
  // goes on, so event time is not over: open windows stay open, in the
  // final checkpoint, for a run that continues from there.
  kEndOfRange,
};

class PartitionReader {
 public:
  virtual ~PartitionReader() = default;

  // Replaces `batch` with up to `max_records` records. They stay valid until
  // the next call to read() or the reader's destruction. A failure is fatal
  // for the job (transient errors are retried inside the connector).
  virtual Result<ReadStatus> read(std::vector<Record>& batch, std::size_t max_records) = 0;

  // After read() returned kEndOfRange: the offset a run continuing from here
  // reads next (the pinned end, or the start where that was beyond it).
  virtual int64_t end_of_range() const { return -1; }

  // Sets the function to call, from any thread, when records arrive after
  // read() returned kEmpty. Called once, before the first read().
  virtual void set_wakeup(std::function<void()> wakeup) = 0;
};

// Implemented by the runtime; the Source calls it from inside poll().
class SourceListener {
 public:
  virtual ~SourceListener() = default;
  // A new partition to process, starting at whatever position the reader has.
  virtual void on_assigned(const PartitionId& partition, std::unique_ptr<PartitionReader> reader) = 0;
  // Partitions being taken away. Returns once their tasks have stopped and
  // their positions have been committed (best effort) through commit().
  virtual void on_revoked(const std::vector<PartitionId>& partitions) = 0;
};

class Source {
 public:
  virtual ~Source() = default;

  // Connects and subscribes; assignments arrive through the listener in poll().
  virtual Status start(SourceListener& listener) = 0;
  // Serves group events (assignment, revocation, errors) for up to `timeout`.
  // An error is fatal for the job.
  virtual Status poll(std::chrono::milliseconds timeout) = 0;
  // Records where processing got to, once every output up to there is
  // acknowledged by the sink.
  virtual Status commit(const std::vector<PartitionPosition>& positions) = 0;
  // True for inputs that end (files, bounded replays): the job exits once
  // every assigned partition has reached its end.
  virtual bool bounded() const = 0;
  // For a bounded replay of a stream (--until): the range of each assigned
  // partition, to show progress. Empty for other sources.
  virtual std::map<PartitionId, OffsetRange> ranges() const { return {}; }
  // The last known end offset of each assigned partition, for consumer lag;
  // no request to the broker. Empty for sources that do not know.
  virtual std::map<PartitionId, int64_t> end_offsets() const { return {}; }
  // Stops fetching, revokes every partition through the listener and leaves
  // the group.
  virtual Status close() = 0;
};

}  // namespace kappa
