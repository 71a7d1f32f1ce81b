#include "state/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "state/checksum.h"
#include "tests/state/state_test_util.h"

namespace kappa::state_internal {
namespace {

using ::testing::HasSubstr;

Manifest sample() {
  Manifest m;
  m.job_id = "fraud scoring %1\n";
  m.format_version = 1;
  m.checkpoint_id = 12;
  m.offsets = {{{"transactions", 0}, 181204}, {{"file:/data/in put.jsonl", 3}, 0}, {{"", -1}, -7}};
  m.watermarks = {{{"transactions", 0}, 1'700'000'123'000}, {{"%", 1}, -9'000'000'000'000'000'000}};
  m.files = {{"000042.sst", 10468, 0x9f1c03aa}, {"CURRENT", 16, 0}, {"MANIFEST-000005", 0, 0xffffffff}};
  return m;
}

void expect_equal(const Manifest& a, const Manifest& b) {
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.format_version, b.format_version);
  EXPECT_EQ(a.checkpoint_id, b.checkpoint_id);
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.watermarks, b.watermarks);
  ASSERT_EQ(a.files.size(), b.files.size());
  for (std::size_t i = 0; i < a.files.size(); ++i) {
    EXPECT_EQ(a.files[i].name, b.files[i].name);
    EXPECT_EQ(a.files[i].size, b.files[i].size);
    EXPECT_EQ(a.files[i].crc32c, b.files[i].crc32c);
  }
}

TEST(ManifestTest, RoundTrips) {
  const Manifest m = sample();
  Result<Manifest> decoded = decode_manifest(encode_manifest(m));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  expect_equal(*decoded, m);
  EXPECT_EQ(m.files_bytes(), 10468u + 16u);
}

TEST(ManifestTest, IsReadableText) {
  Manifest m;
  m.job_id = "fraud-scoring";
  m.format_version = 1;
  m.checkpoint_id = 3;
  m.offsets = {{{"transactions", 0}, 55}};
  m.watermarks = {{{"transactions", 0}, 1000}};
  m.files = {{"000009.sst", 100, 0xabcdef01}};
  const std::string text = encode_manifest(m);
  EXPECT_THAT(text, ::testing::StartsWith("kappa-checkpoint\nformat 1\njob fraud-scoring\ncheckpoint 3\n"
                                          "offset transactions 0 55\nwatermark transactions 0 1000\n"
                                          "file 000009.sst 100 abcdef01\ncrc32c "));
}

TEST(ManifestTest, EveryFlippedByteIsDetected) {
  const std::string text = encode_manifest(sample());
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string damaged = text;
    damaged[i] ^= 0x01;
    EXPECT_FALSE(decode_manifest(damaged).is_ok()) << "byte " << i;
  }
}

TEST(ManifestTest, EveryTruncationIsDetected) {
  const std::string text = encode_manifest(sample());
  for (std::size_t n = 0; n < text.size(); ++n) {
    Result<Manifest> decoded = decode_manifest(text.substr(0, n));
    ASSERT_FALSE(decoded.is_ok()) << "length " << n;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  }
}

TEST(ManifestTest, SaysWhatIsWrong) {
  EXPECT_THAT(decode_manifest("").status().message(), HasSubstr("cut short"));
  EXPECT_THAT(decode_manifest("kappa-checkpoint\n").status().message(), HasSubstr("does not end with its checksum"));
  std::string body = "kappa-checkpoint\nformat 1\njob j\ncheckpoint 1\nbogus line\n";
  EXPECT_THAT(decode_manifest(body + "crc32c " + crc_to_hex(crc32c(body)) + "\n").status().message(),
              HasSubstr("line 5 of the manifest is malformed: \"bogus%20line\""));
  body = "kappa-checkpoint\nformat 1\njob j\n";
  EXPECT_THAT(decode_manifest(body + "crc32c " + crc_to_hex(crc32c(body)) + "\n").status().message(),
              HasSubstr("lacks its format, job or checkpoint line"));
  body = "kappa-checkpoint\nformat 1\njob j\ncheckpoint 1\nfile ../escape 1 00000000\n";
  EXPECT_FALSE(decode_manifest(body + "crc32c " + crc_to_hex(crc32c(body)) + "\n").is_ok());
}

TEST(ManifestTest, FieldsEscapeEveryByteThatIsNotPrintable) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string escaped = escape_field(all);
  EXPECT_EQ(escaped.find(' '), std::string::npos);
  EXPECT_EQ(escaped.find('\n'), std::string::npos);
  std::string back;
  ASSERT_TRUE(unescape_field(escaped, back));
  EXPECT_EQ(back, all);
  EXPECT_EQ(escape_field(""), "%");
  ASSERT_TRUE(unescape_field("%", back));
  EXPECT_EQ(back, "");
  EXPECT_FALSE(unescape_field("%4", back));
  EXPECT_FALSE(unescape_field("%zz", back));
}

TEST(Crc32cTest, IsTheStandardCastagnoliCrc) {
  EXPECT_EQ(crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  uint32_t crc = 0;
  ASSERT_TRUE(crc_from_hex(crc_to_hex(0x0a1b2c3d), crc));
  EXPECT_EQ(crc, 0x0a1b2c3du);
  EXPECT_FALSE(crc_from_hex("0a1b2c3", crc));
}

// Sets `path`'s modification time to `seconds` after the epoch, as a file
// written at another moment would have.
void set_mtime(const std::string& path, time_t seconds) {
  const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

TEST(FileDigestCacheTest, AFileOfTheSameInodeAndSizeWrittenLaterIsReadAgain) {
  state_test::TempDir dir;
  const std::string path = dir / "000030.sst";
  state_test::write_bytes(path, "first content");
  set_mtime(path, 1'700'000'000);
  FileDigestCache cache;
  Result<FileDigest> first = cache.digest(path, /*immutable=*/true);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_EQ(first->crc32c, crc32c("first content"));

  // Deleted and written anew at the same size: the filesystem may give the
  // new file the old one's inode, and this rewrite in place always does.
  state_test::write_bytes(path, "other content");
  set_mtime(path, 1'700'000'001);
  Result<FileDigest> second = cache.digest(path, /*immutable=*/true);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_EQ(second->size, 13u);
  EXPECT_EQ(second->crc32c, crc32c("other content"));
}

TEST(FileDigestCacheTest, AMutableFileIsAlwaysReadAgain) {
  state_test::TempDir dir;
  const std::string path = dir / "CURRENT";
  state_test::write_bytes(path, "MANIFEST-000005\n");
  set_mtime(path, 1'700'000'000);
  FileDigestCache cache;
  ASSERT_TRUE(cache.digest(path, /*immutable=*/false).is_ok());
  state_test::write_bytes(path, "MANIFEST-000009\n");
  set_mtime(path, 1'700'000'000);
  Result<FileDigest> again = cache.digest(path, /*immutable=*/false);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(again->crc32c, crc32c("MANIFEST-000009\n"));
}

}  // namespace
}  // namespace kappa::state_internal
