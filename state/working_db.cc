#include "state/working_db.h"

#include <rocksdb/options.h>
#include <rocksdb/utilities/checkpoint.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>

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
  return options;
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

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
  rocksdb::WriteOptions options;
  options.sync = true;
  return from_rocksdb(db_->Write(options, &batch), "cannot write the checkpoint's batch to the state database");
}

Status WorkingDb::scan(rocksdb::ColumnFamilyHandle* family, std::string_view lower, std::string_view upper,
                       const std::function<Status(std::string_view key, std::string_view value)>& f) {
  const rocksdb::Slice lower_bound = slice(lower);
  const rocksdb::Slice upper_bound = slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_lower_bound = &lower_bound;
  options.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, family));
  for (it->Seek(lower_bound); it->Valid(); it->Next()) {
    KAPPA_RETURN_IF_ERROR(f(it->key().ToStringView(), it->value().ToStringView()));
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

Status WorkingDb::create_checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  KAPPA_RETURN_IF_ERROR(from_rocksdb(rocksdb::Checkpoint::Create(db_.get(), &raw), "cannot start a checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return from_rocksdb(checkpoint->CreateCheckpoint(dir), "cannot create checkpoint " + dir);
}

}  // namespace kappa::state_internal
