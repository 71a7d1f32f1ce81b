#include "state/task_state.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "state/key_encoding.h"

namespace kappa::state_internal {

void PendingWrites::Log::remove_range(rocksdb::ColumnFamilyHandle* family, std::string_view prefix,
                                      std::string_view from, std::string_view to) {
  add(family, Kind::kRemoveRange, prefix, from, std::string(prefix).append(to));
}

void PendingWrites::Log::add(rocksdb::ColumnFamilyHandle* family, Kind kind, std::string_view prefix,
                             std::string_view key, std::string_view value) {
  const Header header{family, prefix.size() + key.size(), value.size(), kind};
  char* at = extend(sizeof(Header) + header.key_size + header.value_size);
  auto append = [&at](const void* bytes, std::size_t size) {
    if (size > 0) std::memcpy(at, bytes, size);  // an empty view's data may be null
    at += size;
  };
  append(&header, sizeof(Header));
  append(prefix.data(), prefix.size());
  append(key.data(), key.size());
  append(value.data(), value.size());
}

void PendingWrites::Log::add_block(std::size_t bytes) {
  constexpr std::size_t kSmallestBlock = 64 << 10;
  std::size_t capacity = blocks_.empty() ? last_size_ + last_size_ / 4 : 2 * blocks_.back().capacity;
  capacity = std::max({capacity, kSmallestBlock, bytes});
  blocks_.push_back({std::unique_ptr<char[], Free>(HugePageAllocator<char>().allocate(capacity), Free{capacity}), 0,
                     capacity});
}

PendingWrites::Log& PendingWrites::open() {
  std::lock_guard lock(mutex_);
  return *logs_.emplace_back(std::make_unique<Log>());
}

void PendingWrites::close(Log& log) {
  std::lock_guard lock(mutex_);
  log.closed_ = true;
}

void PendingWrites::fail(Status status) {
  std::lock_guard lock(mutex_);
  if (error_.is_ok()) error_ = std::move(status);
}

Result<rocksdb::WriteBatch> PendingWrites::take() {
  // Every log's blocks, in the order the logs were opened: a closed log's
  // changes before those of a later task of the same partition.
  std::vector<Log::Block> taken;
  Status error;
  {
    std::lock_guard lock(mutex_);
    std::swap(error, error_);
    for (std::unique_ptr<Log>& log : logs_) {
      log->last_size_ = 0;
      for (Log::Block& block : log->blocks_) {
        log->last_size_ += block.size;
        taken.push_back(std::move(block));
      }
      log->blocks_.clear();
    }
    std::erase_if(logs_, [](const std::unique_ptr<Log>& log) { return log->closed_; });
  }
  if (!error.is_ok()) return error;
  return sorted_batch(taken);
}

Result<rocksdb::WriteBatch> PendingWrites::sorted_batch(const std::vector<Log::Block>& blocks) {
  struct Change {
    rocksdb::ColumnFamilyHandle* family;
    rocksdb::Slice key;
    rocksdb::Slice value;  // a range removal's end; empty for a removal
    Kind kind;
  };
  std::vector<Change> changes;
  std::size_t total_bytes = 0;
  for (const Log::Block& block : blocks) {
    total_bytes += block.size;
    const char* at = block.data.get();
    const char* const end = at + block.size;
    while (at < end) {
      Log::Header header;
      std::memcpy(&header, at, sizeof(Log::Header));
      at += sizeof(Log::Header);
      const rocksdb::Slice key(at, header.key_size);
      at += header.key_size;
      changes.push_back({header.family, key, rocksdb::Slice(at, header.value_size), header.kind});
      at += header.value_size;
    }
  }
  std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
    const bool a_range = a.kind == Kind::kRemoveRange;
    const bool b_range = b.kind == Kind::kRemoveRange;
    if (a_range != b_range) return a_range;
    if (a.family != b.family) return std::less<>()(a.family, b.family);
    return a.key.compare(b.key) < 0;
  });
  rocksdb::WriteBatch batch(total_bytes);
  for (const Change& change : changes) {
    rocksdb::Status status;
    switch (change.kind) {
      case Kind::kPut:
        status = batch.Put(change.family, change.key, change.value);
        break;
      case Kind::kRemove:
        status = batch.Delete(change.family, change.key);
        break;
      case Kind::kRemoveRange:
        status = batch.DeleteRange(change.family, change.key, change.value);
        break;
    }
    if (!status.ok()) return from_rocksdb(status, "cannot add a state change to the checkpoint");
  }
  return batch;
}

class RocksTaskState::StageWriter final : public StateWriter {
 public:
  StageWriter(WorkingDb& db, PendingWrites& pending, PendingWrites::Log& log, const std::string& prefix,
              std::size_t stage)
      : db_(db), pending_(pending), log_(log), prefix_(prefix), stage_(stage) {}

  void put(std::string_view key, std::string_view value) override {
    if (rocksdb::ColumnFamilyHandle* f = family()) log_.put(f, prefix_, key, value);
  }
  void remove(std::string_view key) override {
    if (rocksdb::ColumnFamilyHandle* f = family()) log_.remove(f, prefix_, key);
  }
  void remove_range(std::string_view from, std::string_view to) override {
    if (rocksdb::ColumnFamilyHandle* f = family()) log_.remove_range(f, prefix_, from, to);
  }

 private:
  // Created on the first write, so a stage that never writes has no column
  // family. On failure the error goes to the commit, and this write is lost
  // with it.
  rocksdb::ColumnFamilyHandle* family() {
    if (family_ != nullptr) return family_;
    Result<rocksdb::ColumnFamilyHandle*> created = db_.stage_family(stage_);
    if (!created.is_ok()) {
      pending_.fail(created.status());
      return nullptr;
    }
    family_ = *created;
    return family_;
  }

  WorkingDb& db_;
  PendingWrites& pending_;
  PendingWrites::Log& log_;
  const std::string& prefix_;
  const std::size_t stage_;
  rocksdb::ColumnFamilyHandle* family_ = nullptr;
};

class RocksTaskState::StageReader final : public StateReader {
 public:
  StageReader(WorkingDb& db, const std::string& prefix, std::size_t stage, StateMemory* memory)
      : db_(db), prefix_(prefix), end_(prefix_end(prefix)), stage_(stage), memory_(memory) {}

  using StateReader::scan;
  Status scan(std::string_view from, std::string_view to,
              const std::function<Status(std::string_view key, std::string_view value)>& f) override {
    rocksdb::ColumnFamilyHandle* family = db_.find_stage_family(stage_);
    if (family == nullptr) return Status::ok();  // nothing was ever written to this stage
    const std::string first = prefix_ + std::string(from);
    const std::string end = to.empty() ? end_ : prefix_ + std::string(to);
    return db_.scan(family, first, end,
                    [&](std::string_view key, std::string_view value) { return f(key.substr(prefix_.size()), value); });
  }

  Status read_while(std::string_view from, std::string_view to,
                    const std::function<bool(std::string_view key, std::string_view value)>& f) override {
    rocksdb::ColumnFamilyHandle* family = db_.find_stage_family(stage_);
    if (family == nullptr) return Status::ok();
    key_.assign(prefix_).append(from);
    range_end_.assign(prefix_).append(to);
    return db_.read_while(family, key_, range_end_, [&](std::string_view key, std::string_view value) {
      return f(key.substr(prefix_.size()), value);
    });
  }

  Result<std::optional<std::string>> get(std::string_view key) override {
    rocksdb::ColumnFamilyHandle* family = db_.find_stage_family(stage_);
    if (family == nullptr) return std::optional<std::string>();
    key_.assign(prefix_).append(key);
    return db_.get(family, key_);
  }

  Status get_many(std::span<const std::string> keys,
                  const std::function<void(std::size_t i, std::string_view value)>& found) override {
    rocksdb::ColumnFamilyHandle* family = db_.find_stage_family(stage_);
    if (family == nullptr) return Status::ok();
    // The prefix is the same for every key, so the prefixed keys keep their order.
    keys_.resize(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) keys_[i].assign(prefix_).append(keys[i]);
    return db_.get_many(family, keys_, found);
  }

  StateMemory* memory() const override { return memory_; }

 private:
  WorkingDb& db_;
  const std::string& prefix_;
  const std::string end_;
  const std::size_t stage_;
  StateMemory* const memory_;
  std::string key_;                // get()'s RocksDB key, or read_while()'s first, reused
  std::string range_end_;          // read_while()'s end, reused
  std::vector<std::string> keys_;  // get_many()'s, reused
};

RocksTaskState::RocksTaskState(WorkingDb& db, PendingWrites& pending, const PartitionId& partition, StateMemory* memory)
    : db_(db), pending_(pending), log_(pending.open()), prefix_(task_prefix(partition)), memory_(memory) {}

RocksTaskState::~RocksTaskState() { pending_.close(log_); }

RocksTaskState::Stage& RocksTaskState::stage(std::size_t index) {
  if (index >= stages_.size()) stages_.resize(index + 1);
  return stages_[index];
}

StateWriter& RocksTaskState::writer(std::size_t index) {
  Stage& s = stage(index);
  if (!s.writer) s.writer = std::make_unique<StageWriter>(db_, pending_, log_, prefix_, index);
  return *s.writer;
}

StateReader& RocksTaskState::reader(std::size_t index) {
  Stage& s = stage(index);
  if (!s.reader) s.reader = std::make_unique<StageReader>(db_, prefix_, index, memory_);
  return *s.reader;
}

}  // namespace kappa::state_internal
