#include "state/working_db.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "state/key_encoding.h"

namespace kappa::state_internal {
namespace {

constexpr std::string_view kMetaFamily = "meta";
constexpr std::string_view kStagePrefix = "stage-";

std::string stage_family_name(std::size_t stage) { return std::string(kStagePrefix) + std::to_string(stage); }

std::optional<std::size_t> parse_stage_family_name(std::string_view name) {
  if (!name.starts_with(kStagePrefix)) return std::nullopt;
  const std::string_view digits = name.substr(kStagePrefix.size());
  std::size_t stage = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), stage);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return stage;
}

rocksdb::Options database_options() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // A checkpoint flushes every column family; atomic_flush makes that one
  // consistent cut even without the write-ahead log.
  options.atomic_flush = true;
  // The working database is rebuilt from a checkpoint at every open, so a
  // flush at close would be wasted.
  options.avoid_flush_during_shutdown = true;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.keep_log_file_num = 2;
  // Point lookups (entries read back under --state-memory) look for a key
  // that every SST file's range covers, since keys arrive in no order: a
  // Bloom filter per file lets a lookup read one file instead of all of
  // them (10 bits a key: ~1% false positives).
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

// Entries read from RocksDB, copied back to back.
class Chunk {
 public:
  void add(std::string_view key, std::string_view value) {
    bytes_.append(key).append(value);
    ends_.push_back({bytes_.size() - value.size(), bytes_.size()});
  }
  bool full() const { return bytes_.size() >= (256 << 10) || ends_.size() >= 4096; }
  std::size_t size() const { return ends_.size(); }
  std::string_view key(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1].value_end;
    return std::string_view(bytes_).substr(begin, ends_[i].key_end - begin);
  }
  std::string_view value(std::size_t i) const {
    return std::string_view(bytes_).substr(ends_[i].key_end, ends_[i].value_end - ends_[i].key_end);
  }

 private:
  struct Ends {
    std::size_t key_end;
    std::size_t value_end;
  };
  std::string bytes_;
  std::vector<Ends> ends_;
};

// Chunks from the reader thread to the scanning one, a few at a time.
class ChunkQueue {
 public:
  // Blocks while the queue is full. False once stop() was called: the chunk
  // is dropped and the reader should stop.
  bool push(Chunk chunk) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return chunks_.size() < kMaxChunks || stopped_; });
    if (stopped_) return false;
    chunks_.push_back(std::move(chunk));
    changed_.notify_all();
    return true;
  }
  // The reader is done; `status` says whether it read everything.
  void close(Status status) {
    std::lock_guard lock(mu_);
    closed_ = true;
    reader_status_ = std::move(status);
    changed_.notify_all();
  }
  // The next chunk; nothing once the reader closed and every chunk was taken.
  std::optional<Chunk> pop() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return !chunks_.empty() || closed_; });
    if (chunks_.empty()) return std::nullopt;
    Chunk chunk = std::move(chunks_.front());
    chunks_.pop_front();
    changed_.notify_all();
    return chunk;
  }
  // The scanning thread wants no more chunks.
  void stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    chunks_.clear();
    changed_.notify_all();
  }
  // After pop() returned nothing.
  Status reader_status() {
    std::lock_guard lock(mu_);
    return reader_status_;
  }

 private:
  static constexpr std::size_t kMaxChunks = 4;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Chunk> chunks_;
  bool closed_ = false;
  bool stopped_ = false;
  Status reader_status_;
};

}  // namespace

Status from_rocksdb(const rocksdb::Status& status, const std::string& what) {
  if (status.ok()) return Status::ok();
  const std::string message = what + ": " + status.ToString();
  if (status.IsCorruption()) return Status::corruption(message);
  if (status.IsIOError() || status.IsBusy() || status.IsTimedOut()) return Status::unavailable(message);
  if (status.IsInvalidArgument() || status.IsNotSupported()) return Status::invalid_argument(message);
  return Status::internal(message);
}

Result<std::unique_ptr<WorkingDb>> WorkingDb::open(const std::string& dir) {
  const rocksdb::Options options = database_options();
  std::vector<std::string> names;
  // A database that does not exist yet has no list: it gets the two we need.
  if (!rocksdb::DB::ListColumnFamilies(options, dir, &names).ok()) names.clear();
  if (std::find(names.begin(), names.end(), rocksdb::kDefaultColumnFamilyName) == names.end()) {
    names.push_back(rocksdb::kDefaultColumnFamilyName);
  }
  if (std::find(names.begin(), names.end(), kMetaFamily) == names.end()) names.emplace_back(kMetaFamily);

  std::unique_ptr<WorkingDb> db(new WorkingDb());
  db->family_options_ = rocksdb::ColumnFamilyOptions(options);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, db->family_options_);
  rocksdb::DB* raw = nullptr;
  KAPPA_RETURN_IF_ERROR(from_rocksdb(rocksdb::DB::Open(options, dir, descriptors, &db->handles_, &raw),
                                     "cannot open the state database " + dir));
  db->db_.reset(raw);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == kMetaFamily) db->meta_ = db->handles_[i];
    if (const std::optional<std::size_t> stage = parse_stage_family_name(names[i]))
      db->stages_[*stage] = db->handles_[i];
  }
  return db;
}

WorkingDb::~WorkingDb() {
  if (!db_) return;
  // A destructor cannot fail the job, and nothing durable is at stake: the
  // working database is rebuilt from a checkpoint at every open. Say so in
  // the log rather than drop the error.
  auto warn = [](const rocksdb::Status& status, const char* what) {
    if (!status.ok()) spdlog::warn("state database: {} failed: {}", what, status.ToString());
  };
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    warn(db_->DestroyColumnFamilyHandle(handle), "releasing a column family");
  }
  warn(db_->Close(), "closing");
}

Result<rocksdb::ColumnFamilyHandle*> WorkingDb::stage_family(std::size_t stage) {
  std::lock_guard lock(mutex_);
  if (auto it = stages_.find(stage); it != stages_.end()) return it->second;
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  const std::string name = stage_family_name(stage);
  KAPPA_RETURN_IF_ERROR(from_rocksdb(db_->CreateColumnFamily(family_options_, name, &handle),
                                     "cannot create column family " + name + " in the state database"));
  handles_.push_back(handle);
  stages_[stage] = handle;
  return handle;
}

rocksdb::ColumnFamilyHandle* WorkingDb::find_stage_family(std::size_t stage) {
  std::lock_guard lock(mutex_);
  auto it = stages_.find(stage);
  return it == stages_.end() ? nullptr : it->second;
}

Status WorkingDb::write(rocksdb::WriteBatch& batch) {
  // No write-ahead log: the batch is durable once the checkpoint that
  // follows has flushed it into SST files, and a restart never reads the
  // working database, it rebuilds it from a checkpoint. A logged batch was
  // written and synced once more, and read back whole by every
  // rocksdb::Checkpoint (which reads the first record of each live log).
  rocksdb::WriteOptions options;
  options.disableWAL = true;
  return from_rocksdb(db_->Write(options, &batch), "cannot write the checkpoint's batch to the state database");
}

Result<std::optional<std::string>> WorkingDb::get(rocksdb::ColumnFamilyHandle* family, std::string_view key) {
  std::string value;
  const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), family, slice(key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  KAPPA_RETURN_IF_ERROR(from_rocksdb(status, "cannot read the state database"));
  return std::optional<std::string>(std::move(value));
}

Status WorkingDb::get_many(rocksdb::ColumnFamilyHandle* family, std::span<const std::string> keys,
                           const std::function<void(std::size_t i, std::string_view value)>& found) {
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const std::string& key : keys) slices.push_back(slice(key));
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), family, keys.size(), slices.data(), values.data(), statuses.data(),
                /*sorted_input=*/true);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    KAPPA_RETURN_IF_ERROR(from_rocksdb(statuses[i], "cannot read the state database"));
    found(i, values[i].ToStringView());
  }
  return Status::ok();
}

Status WorkingDb::scan(rocksdb::ColumnFamilyHandle* family, std::string_view lower, std::string_view upper,
                       const std::function<Status(std::string_view key, std::string_view value)>& f) {
  const std::string lower_bound_bytes(lower);
  const std::string upper_bound_bytes(upper);
  const rocksdb::Slice lower_bound = slice(lower_bound_bytes);
  const rocksdb::Slice upper_bound = slice(upper_bound_bytes);
  rocksdb::ReadOptions options;
  options.iterate_lower_bound = &lower_bound;
  options.iterate_upper_bound = &upper_bound;
  // Scans restore whole tasks, once: their blocks are read once, in order.
  options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, family));

  // A restore spends about as long reading entries as the task spends
  // decoding them (bench/checkpoint_bench): a reader thread fills chunks of
  // entries while this thread hands the previous ones to f.
  ChunkQueue queue;
  std::thread reader([&] {
    Chunk chunk;
    for (it->Seek(lower_bound); it->Valid(); it->Next()) {
      chunk.add(it->key().ToStringView(), it->value().ToStringView());
      if (chunk.full() && !queue.push(std::exchange(chunk, Chunk{}))) break;
    }
    queue.push(std::move(chunk));
    queue.close(from_rocksdb(it->status(), "cannot read the state database"));
  });
  Status status = Status::ok();
  while (std::optional<Chunk> chunk = queue.pop()) {
    for (std::size_t i = 0; i < chunk->size() && status.is_ok(); ++i) status = f(chunk->key(i), chunk->value(i));
    if (!status.is_ok()) {
      queue.stop();
      break;
    }
  }
  reader.join();
  if (!status.is_ok()) return status;
  return queue.reader_status();
}

Status WorkingDb::read_while(rocksdb::ColumnFamilyHandle* family, std::string_view lower, std::string_view upper,
                             const std::function<bool(std::string_view key, std::string_view value)>& f) {
  const rocksdb::Slice upper_bound = slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, family));
  for (it->Seek(slice(lower)); it->Valid(); it->Next()) {
    if (!f(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return from_rocksdb(it->status(), "cannot read the state database");
}

Result<StoredMeta> WorkingDb::read_meta() {
  StoredMeta meta;
  const std::string lower;
  const std::string upper(1, '\xff');
  KAPPA_RETURN_IF_ERROR(scan(meta_, lower, upper, [&](std::string_view key, std::string_view value) {
    int64_t number = 0;
    PartitionId partition;
    std::string_view rest = key.substr(key.empty() ? 0 : 1);
    const bool ok = decode_int64(value, number) &&
                    (key == kCheckpointIdKey || (!key.empty() && (key[0] == kOffsetTag || key[0] == kWatermarkTag) &&
                                                 decode_task_prefix(rest, partition) && rest.empty()));
    if (!ok) return Status::corruption("the state database holds an unreadable meta entry");
    if (key == kCheckpointIdKey) {
      meta.checkpoint_id = static_cast<uint64_t>(number);
    } else if (key[0] == kOffsetTag) {
      meta.offsets[partition] = number;
    } else {
      meta.watermarks[partition] = number;
    }
    return Status::ok();
  }));
  return meta;
}

uint64_t WorkingDb::estimate_entries() {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const auto& [stage, family] : stages_) {
    uint64_t entries = 0;
    if (db_->GetIntProperty(family, rocksdb::DB::Properties::kEstimateNumKeys, &entries)) total += entries;
  }
  return total;
}

Status WorkingDb::create_checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  KAPPA_RETURN_IF_ERROR(from_rocksdb(rocksdb::Checkpoint::Create(db_.get(), &raw), "cannot start a checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return from_rocksdb(checkpoint->CreateCheckpoint(dir), "cannot create checkpoint " + dir);
}

}  // namespace kappa::state_internal
