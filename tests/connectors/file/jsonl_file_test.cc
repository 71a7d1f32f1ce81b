#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/file/jsonl_file_sink.h"
#include "connectors/file/jsonl_file_source.h"

namespace kappa {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kappa-jsonl-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    const std::string path = file(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class RecordingListener final : public SourceListener {
 public:
  void on_assigned(const PartitionId& partition, std::unique_ptr<PartitionReader> reader) override {
    assigned.push_back(partition);
    readers.push_back(std::move(reader));
  }
  void on_revoked(const std::vector<PartitionId>& partitions) override {
    revoked.insert(revoked.end(), partitions.begin(), partitions.end());
  }
  std::vector<PartitionId> assigned;
  std::vector<PartitionId> revoked;
  std::vector<std::unique_ptr<PartitionReader>> readers;
};

struct Line {
  int64_t offset;
  std::string value;
  friend bool operator==(const Line&, const Line&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Line& l) { return os << l.offset << ":" << l.value; }
};

// Reads batches until kEnd; returns every batch's lines.
std::vector<std::vector<Line>> read_all(PartitionReader& reader, std::size_t max_records) {
  std::vector<std::vector<Line>> batches;
  std::vector<Record> batch;
  for (int guard = 0; guard < 1000; ++guard) {
    Result<ReadStatus> read = reader.read(batch, max_records);
    EXPECT_TRUE(read.is_ok()) << read.status().to_string();
    if (!read.is_ok() || *read == ReadStatus::kEnd) break;
    EXPECT_EQ(*read, ReadStatus::kRecords);  // a file is never "empty for now"
    std::vector<Line> lines;
    for (const Record& r : batch) {
      lines.push_back({r.offset, std::string(r.value)});
      EXPECT_EQ(r.key, "");
      EXPECT_EQ(r.timestamp, 0);
    }
    batches.push_back(lines);
  }
  return batches;
}

TEST(JsonLinesFileSourceTest, AssignsOnePartitionAndIsBounded) {
  TempDir dir;
  const std::string path = dir.write("in.jsonl", "{\"a\":1}\n");
  JsonLinesFileSource source(path);
  EXPECT_TRUE(source.bounded());
  RecordingListener listener;
  ASSERT_TRUE(source.start(listener).is_ok());
  ASSERT_EQ(listener.assigned.size(), 1u);
  EXPECT_EQ(listener.assigned[0], (PartitionId{path, 0}));
  ASSERT_NE(listener.readers[0], nullptr);
  listener.readers[0]->set_wakeup([] { FAIL() << "a file never needs a wake-up"; });
  EXPECT_TRUE(source.poll(std::chrono::milliseconds(1)).is_ok());
  EXPECT_TRUE(source.commit({{PartitionId{path, 0}, 1}}).is_ok());
  ASSERT_TRUE(source.close().is_ok());
  EXPECT_THAT(listener.revoked, ElementsAre(PartitionId{path, 0}));
  // A second close revokes nothing more.
  ASSERT_TRUE(source.close().is_ok());
  EXPECT_EQ(listener.revoked.size(), 1u);
}

TEST(JsonLinesFileSourceTest, OffsetsAreLineNumbersBlankLinesSkippedWhiteSpaceTrimmed) {
  TempDir dir;
  const std::string path = dir.write("in.jsonl", "{\"a\":1}\n\n{\"a\":2}\r\n\r\n  \n{\"a\":3}\n{\"a\":4}");
  JsonLinesFileSource source(path);
  RecordingListener listener;
  ASSERT_TRUE(source.start(listener).is_ok());
  auto batches = read_all(*listener.readers[0], 100);
  ASSERT_EQ(batches.size(), 1u);
  // Line 4 holds only two spaces: blank too.
  EXPECT_THAT(batches[0],
              ElementsAre(Line{0, "{\"a\":1}"}, Line{2, "{\"a\":2}"}, Line{5, "{\"a\":3}"}, Line{6, "{\"a\":4}"}));
  // After the end, still the end.
  std::vector<Record> batch;
  Result<ReadStatus> again = listener.readers[0]->read(batch, 100);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, ReadStatus::kEnd);
  EXPECT_TRUE(batch.empty());
}

TEST(JsonLinesFileSourceTest, BatchesOfMaxSize) {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 10; ++i) content += "{\"i\":" + std::to_string(i) + "}\n";
  const std::string path = dir.write("in.jsonl", content);
  JsonLinesFileSource source(path);
  RecordingListener listener;
  ASSERT_TRUE(source.start(listener).is_ok());
  auto batches = read_all(*listener.readers[0], 4);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].size(), 4u);
  EXPECT_EQ(batches[1].size(), 4u);
  EXPECT_EQ(batches[2].size(), 2u);
  int64_t expected = 0;
  for (const auto& b : batches) {
    for (const Line& l : b) {
      EXPECT_EQ(l.offset, expected);
      EXPECT_EQ(l.value, "{\"i\":" + std::to_string(expected) + "}");
      ++expected;
    }
  }
}

TEST(JsonLinesFileSourceTest, RecordsStayValidUntilTheNextRead) {
  TempDir dir;
  std::string content;
  // Long lines so the reader's buffer has to grow while filling the batch.
  for (int i = 0; i < 50; ++i) content += std::string(1000 + i, static_cast<char>('a' + i % 26)) + "\n";
  const std::string path = dir.write("in.jsonl", content);
  JsonLinesFileSource source(path);
  RecordingListener listener;
  ASSERT_TRUE(source.start(listener).is_ok());
  std::vector<Record> batch;
  Result<ReadStatus> read = listener.readers[0]->read(batch, 50);
  ASSERT_TRUE(read.is_ok());
  ASSERT_EQ(batch.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(batch[i].value, std::string(1000 + i, static_cast<char>('a' + i % 26))) << i;
  }
}

TEST(JsonLinesFileSourceTest, EmptyFileEndsAtOnce) {
  TempDir dir;
  const std::string path = dir.write("empty.jsonl", "");
  JsonLinesFileSource source(path);
  RecordingListener listener;
  ASSERT_TRUE(source.start(listener).is_ok());
  EXPECT_TRUE(read_all(*listener.readers[0], 10).empty());
}

TEST(JsonLinesFileSourceTest, MissingFileIsNotFound) {
  TempDir dir;
  const std::string path = dir.file("missing.jsonl");
  JsonLinesFileSource source(path);
  RecordingListener listener;
  Status status = source.start(listener);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.to_string();
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_TRUE(listener.assigned.empty());
  // Nothing was assigned, so nothing is revoked.
  EXPECT_TRUE(source.close().is_ok());
  EXPECT_TRUE(listener.revoked.empty());
}

OutputBatch batch_of(const std::vector<std::string>& values) {
  OutputBatch batch;
  for (const std::string& v : values) {
    batch.add("ignored-key", 123, [&](std::string& out) { out.append(v); });
  }
  return batch;
}

TEST(JsonLinesFileSinkTest, WritesOneValuePerLine) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  auto sink = JsonLinesFileSink::open(path);
  ASSERT_TRUE(sink.is_ok()) << sink.status().to_string();
  ASSERT_TRUE((*sink)->write(batch_of({"{\"a\":1}", "{\"a\":2}"})).is_ok());
  ASSERT_TRUE((*sink)->write(batch_of({})).is_ok());
  ASSERT_TRUE((*sink)->write(batch_of({"{\"b\":\"x\"}"})).is_ok());
  ASSERT_TRUE((*sink)->flush(std::chrono::seconds(1)).is_ok());
  // Flushed: visible to another reader while the sink is still open.
  EXPECT_EQ(read_file(path), "{\"a\":1}\n{\"a\":2}\n{\"b\":\"x\"}\n");
  sink->reset();
  EXPECT_EQ(read_file(path), "{\"a\":1}\n{\"a\":2}\n{\"b\":\"x\"}\n");
}

TEST(JsonLinesFileSinkTest, OpenTruncatesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.write("out.jsonl", "old line 1\nold line 2\n");
  auto sink = JsonLinesFileSink::open(path);
  ASSERT_TRUE(sink.is_ok());
  ASSERT_TRUE((*sink)->write(batch_of({"new"})).is_ok());
  ASSERT_TRUE((*sink)->flush(std::chrono::seconds(1)).is_ok());
  EXPECT_EQ(read_file(path), "new\n");
}

TEST(JsonLinesFileSinkTest, RoundTripThroughTheSource) {
  TempDir dir;
  const std::string path = dir.file("round.jsonl");
  {
    auto sink = JsonLinesFileSink::open(path);
    ASSERT_TRUE(sink.is_ok());
    ASSERT_TRUE((*sink)->write(batch_of({"1", "2", "3"})).is_ok());
    ASSERT_TRUE((*sink)->flush(std::chrono::seconds(1)).is_ok());
  }
  JsonLinesFileSource source(path);
  RecordingListener listener;
  ASSERT_TRUE(source.start(listener).is_ok());
  auto batches = read_all(*listener.readers[0], 10);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_THAT(batches[0], ElementsAre(Line{0, "1"}, Line{1, "2"}, Line{2, "3"}));
}

TEST(JsonLinesFileSinkTest, UnwritablePathIsAnErrorNamingIt) {
  TempDir dir;
  const std::string path = dir.file("no-such-dir/out.jsonl");
  auto sink = JsonLinesFileSink::open(path);
  ASSERT_FALSE(sink.is_ok());
  EXPECT_THAT(sink.status().message(), HasSubstr(path));
  EXPECT_THAT(sink.status().message(), HasSubstr("No such file or directory"));

  // A directory is not a file either.
  auto on_dir = JsonLinesFileSink::open(dir.file(""));
  EXPECT_FALSE(on_dir.is_ok());
}

TEST(JsonLinesFileSinkTest, FailedWriteIsReportedAsDataLossAtFlush) {
  // /dev/full accepts the open and fails every write that reaches it.
  ASSERT_EQ(::access("/dev/full", W_OK), 0) << "this test needs Linux's /dev/full";
  auto sink = JsonLinesFileSink::open("/dev/full");
  ASSERT_TRUE(sink.is_ok()) << sink.status().to_string();
  Status written = (*sink)->write(batch_of({std::string(100, 'x')}));
  Status flushed = (*sink)->flush(std::chrono::seconds(1));
  // Buffered by stdio, the failure shows at the latest when flushing.
  const Status& failure = written.is_ok() ? flushed : written;
  EXPECT_EQ(failure.code(), StatusCode::kDataLoss) << written.to_string() << " / " << flushed.to_string();
  EXPECT_THAT(failure.message(), HasSubstr("/dev/full"));
}

TEST(JsonLinesFileSinkTest, ADeviceThatCannotSyncStillFlushes) {
  // fdatasync on /dev/null fails with EINVAL: there is nothing to make durable.
  auto sink = JsonLinesFileSink::open("/dev/null");
  ASSERT_TRUE(sink.is_ok()) << sink.status().to_string();
  ASSERT_TRUE((*sink)->write(batch_of({"{}"})).is_ok());
  Status flushed = (*sink)->flush(std::chrono::seconds(1));
  EXPECT_TRUE(flushed.is_ok()) << flushed.to_string();
}

}  // namespace
}  // namespace kappa
