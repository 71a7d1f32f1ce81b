#include "state/task_state.h"

#include <algorithm>
#include <functional>

#include "state/key_encoding.h"

namespace kappa::state_internal {

void PendingWrites::put(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view key,
                        std::string_view value) {
  add(family, prefix, key, value, Kind::kPut);
}

void PendingWrites::remove(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view key) {
  add(family, prefix, key, {}, Kind::kRemove);
}

void PendingWrites::remove_range(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view from,
                                 std::string_view to) {
  add(family, prefix, from, std::string(prefix).append(to), Kind::kRemoveRange);
}

void PendingWrites::add(rocksdb::ColumnFamilyHandle* family, std::string_view prefix, std::string_view key,
                        std::string_view value, Kind kind) {
  std::lock_guard lock(mutex_);
  const std::size_t key_begin = bytes_.size();
  bytes_.append(prefix).append(key);
  const std::size_t key_end = bytes_.size();
  bytes_.append(value);
  changes_.push_back({family, key_begin, key_end, bytes_.size(), kind});
}

void PendingWrites::fail(Status status) {
  std::lock_guard lock(mutex_);
  if (error_.is_ok()) error_ = std::move(status);
}

Result<rocksdb::WriteBatch> PendingWrites::take() {
  std::string bytes;
  std::vector<Change> changes;
  Status error;
  {
    std::lock_guard lock(mutex_);
    std::swap(bytes, bytes_);
    std::swap(changes, changes_);
    std::swap(error, error_);
  }
  if (!error.is_ok()) return error;
  auto key_of = [&](const Change& c) { return std::string_view(bytes.data() + c.key_begin, c.key_end - c.key_begin); };
  std::stable_sort(changes.begin(), changes.end(), [&](const Change& a, const Change& b) {
    const bool a_range = a.kind == Kind::kRemoveRange;
    const bool b_range = b.kind == Kind::kRemoveRange;
    if (a_range != b_range) return a_range;
    if (a.family != b.family) return std::less<>()(a.family, b.family);
    return key_of(a) < key_of(b);
  });
  rocksdb::WriteBatch batch(bytes.size() + changes.size() * 16);
  for (const Change& change : changes) {
    const rocksdb::Slice key(bytes.data() + change.key_begin, change.key_end - change.key_begin);
    const rocksdb::Slice value(bytes.data() + change.key_end, change.value_end - change.key_end);
    rocksdb::Status status;
    switch (change.kind) {
      case Kind::kPut:
        status = batch.Put(change.family, key, value);
        break;
      case Kind::kRemove:
        status = batch.Delete(change.family, key);
        break;
      case Kind::kRemoveRange:
        status = batch.DeleteRange(change.family, key, value);
        break;
    }
    if (!status.ok()) return from_rocksdb(status, "cannot add a state change to the checkpoint");
  }
  return batch;
}

class RocksTaskState::StageWriter final : public StateWriter {
 public:
  StageWriter(WorkingDb& db, PendingWrites& pending, const std::string& prefix, std::size_t stage)
      : db_(db), pending_(pending), prefix_(prefix), stage_(stage) {}

  void put(std::string_view key, std::string_view value) override {
    if (rocksdb::ColumnFamilyHandle* f = family()) pending_.put(f, prefix_, key, value);
  }
  void remove(std::string_view key) override {
    if (rocksdb::ColumnFamilyHandle* f = family()) pending_.remove(f, prefix_, key);
  }
  void remove_range(std::string_view from, std::string_view to) override {
    if (rocksdb::ColumnFamilyHandle* f = family()) pending_.remove_range(f, prefix_, from, to);
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
    : db_(db), pending_(pending), prefix_(task_prefix(partition)), memory_(memory) {}

RocksTaskState::~RocksTaskState() = default;

RocksTaskState::Stage& RocksTaskState::stage(std::size_t index) {
  if (index >= stages_.size()) stages_.resize(index + 1);
  return stages_[index];
}

StateWriter& RocksTaskState::writer(std::size_t index) {
  Stage& s = stage(index);
  if (!s.writer) s.writer = std::make_unique<StageWriter>(db_, pending_, prefix_, index);
  return *s.writer;
}

StateReader& RocksTaskState::reader(std::size_t index) {
  Stage& s = stage(index);
  if (!s.reader) s.reader = std::make_unique<StageReader>(db_, prefix_, index, memory_);
  return *s.reader;
}

}  // namespace kappa::state_internal
