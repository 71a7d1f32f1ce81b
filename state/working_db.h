// WorkingDb: the RocksDB database in <state_dir>/work that tasks read their
// committed state from and that checkpoints are taken of. Internal to
// state/; the only file that opens RocksDB.
//
// Column families: "meta" (positions, watermarks, checkpoint id; see
// key_encoding.h) and "stage-<n>" for the n-th stage of the pipeline,
// created the first time a task writes to it. "default" stays empty.
//
// Thread-safe: RocksDB is, and the table of column families is guarded.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/record.h"
#include "runtime/source.h"
#include "runtime/status.h"

namespace kappa::state_internal {

// A RocksDB error as ours: "<what>: <RocksDB's message>".
Status from_rocksdb(const rocksdb::Status& status, const std::string& what);

// What the meta column family holds.
struct StoredMeta {
  uint64_t checkpoint_id = 0;
  std::map<PartitionId, int64_t> offsets;
  std::map<PartitionId, Timestamp> watermarks;
};

class WorkingDb {
 public:
  // Opens (creating if needed) the database in `dir` with every column
  // family it has.
  static Result<std::unique_ptr<WorkingDb>> open(const std::string& dir);
  ~WorkingDb();
  WorkingDb(const WorkingDb&) = delete;
  WorkingDb& operator=(const WorkingDb&) = delete;

  // The column family of `stage`, created if it does not exist yet.
  Result<rocksdb::ColumnFamilyHandle*> stage_family(std::size_t stage);
  // The column family of `stage`, or nullptr if nothing was ever written to it.
  rocksdb::ColumnFamilyHandle* find_stage_family(std::size_t stage);
  rocksdb::ColumnFamilyHandle* meta_family() const { return meta_; }

  // Applies `batch` atomically, without the write-ahead log: it is durable
  // once create_checkpoint() flushed it.
  Status write(rocksdb::WriteBatch& batch);
  // The value of `key` in `family`; nothing when absent.
  Result<std::optional<std::string>> get(rocksdb::ColumnFamilyHandle* family, std::string_view key);
  // The values of `keys` (ascending) in `family`: found(i, value) for each
  // keys[i] present. One batched RocksDB MultiGet, which reads a block once
  // for all the keys in it.
  Status get_many(rocksdb::ColumnFamilyHandle* family, std::span<const std::string> keys,
                  const std::function<void(std::size_t i, std::string_view value)>& found);
  // Calls f(key, value) for the entries of `family` in [lower, upper), in
  // key order; stops at f's first error.
  Status scan(rocksdb::ColumnFamilyHandle* family, std::string_view lower, std::string_view upper,
              const std::function<Status(std::string_view key, std::string_view value)>& f);
  // Calls f(key, value) for the entries of `family` in [lower, upper), in
  // key order, until f returns false. For short reads done often: unlike
  // scan(), no reader thread, and the blocks read stay in the cache.
  Status read_while(rocksdb::ColumnFamilyHandle* family, std::string_view lower, std::string_view upper,
                    const std::function<bool(std::string_view key, std::string_view value)>& f);
  Result<StoredMeta> read_meta();
  // RocksDB's estimate of the keyed state entries, over every stage's column
  // family (rocksdb.estimate-num-keys: cheap, and off by the entries that
  // updates and deletions in unmerged files hide).
  uint64_t estimate_entries();
  // A RocksDB checkpoint (flushed memtables, hard-linked SST files, copied
  // MANIFEST/OPTIONS/CURRENT) in `dir`, which must not exist. `dir` must be
  // absolute.
  Status create_checkpoint(const std::string& dir);

 private:
  WorkingDb() = default;

  rocksdb::ColumnFamilyOptions family_options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // all open ones, closed by the destructor
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  std::mutex mutex_;  // guards stages_ and handles_
  std::map<std::size_t, rocksdb::ColumnFamilyHandle*> stages_;
};

}  // namespace kappa::state_internal
