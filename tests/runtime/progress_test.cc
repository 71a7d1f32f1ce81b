#include "runtime/progress.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "runtime/iso_time.h"

namespace kappa {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;
using namespace std::chrono_literals;
using Clock = ProgressReporter::Clock;

constexpr int64_t kMorning = 20'778LL * 86'400'000 + (9 * 3600 + 30 * 60) * 1000LL;  // 2026-11-21T09:30:00Z

TEST(ProgressFormatTest, Start) {
  EXPECT_EQ(format_progress({0, 2'730'000, std::nullopt}, 0),
            "0 of 2,730,000 records (0.0%), event time -, 0.0 records/s, ETA unknown");
}

TEST(ProgressFormatTest, MidWay) {
  EXPECT_EQ(format_progress({1'234'567, 2'730'000, kMorning}, 52'341.4),
            "1,234,567 of 2,730,000 records (45.2%), event time 2026-11-21T09:30:00.000Z, 52,341 records/s, ETA 29s");
}

TEST(ProgressFormatTest, DoneAndPastTheTotal) {
  EXPECT_EQ(format_progress({2'730'000, 2'730'000, kMorning}, 50'000),
            "2,730,000 of 2,730,000 records (100.0%), event time 2026-11-21T09:30:00.000Z, 50,000 records/s, ETA 0s");
  // A total counted in offsets can fall short of the records read; the display does not go past 100%.
  EXPECT_EQ(format_progress({2'730'005, 2'730'000, kMorning}, 0),
            "2,730,005 of 2,730,000 records (100.0%), event time 2026-11-21T09:30:00.000Z, 0.0 records/s, ETA 0s");
}

TEST(ProgressFormatTest, OneHundredPercentOnlyWhenDone) {
  EXPECT_EQ(format_progress({999'999, 1'000'000, std::nullopt}, 10),
            "999,999 of 1,000,000 records (99.9%), event time -, 10 records/s, ETA 1s");
}

TEST(ProgressFormatTest, UnknownTotalHasNeitherPercentNorEta) {
  EXPECT_EQ(format_progress({1'234'567, 0, kMorning}, 1'000),
            "1,234,567 records, event time 2026-11-21T09:30:00.000Z, 1,000 records/s");
}

TEST(ProgressFormatTest, NoRateMeansNoEta) {
  EXPECT_EQ(format_progress({10, 100, std::nullopt}, 0),
            "10 of 100 records (10.0%), event time -, 0.0 records/s, ETA unknown");
}

TEST(ProgressFormatTest, HugeNumbersAreGrouped) {
  EXPECT_EQ(format_progress({12'345'678'901'234, 98'765'432'109'876, kMorning}, 1'234'567.8),
            "12,345,678,901,234 of 98,765,432,109,876 records (12.4%), event time 2026-11-21T09:30:00.000Z, "
            "1,234,568 records/s, ETA 810d04h");
  EXPECT_EQ(format_progress({0, 18'446'744'073'709'551'615ULL, std::nullopt}, 0.1),
            "0 of 18,446,744,073,709,551,615 records (0.0%), event time -, 0.1 records/s, ETA unknown")
      << "an ETA beyond a century says nothing";
}

TEST(ProgressFormatTest, EtaUnitsAndSlowRates) {
  EXPECT_EQ(format_progress({100, 1'000, std::nullopt}, 2.5),
            "100 of 1,000 records (10.0%), event time -, 2.5 records/s, ETA 6m00s");
  EXPECT_EQ(format_progress({0, 3'725, std::nullopt}, 1),
            "0 of 3,725 records (0.0%), event time -, 1.0 records/s, ETA 1h02m");
  EXPECT_EQ(format_progress({0, 65, std::nullopt}, 1),
            "0 of 65 records (0.0%), event time -, 1.0 records/s, ETA 1m05s");
}

TEST(ProgressFormatTest, BarFitsTheWidth) {
  const ReplayProgress mid{1'234'567, 2'730'000, kMorning};
  const std::string text = format_progress(mid, 52'341.4);
  ASSERT_EQ(text.size(), 102u);
  // Room for the widest bar: 30 cells, 45.2% of them (13) filled.
  EXPECT_EQ(format_progress_bar(mid, 52'341.4, 200), "[#############.................] " + text);
  // Room for 12 cells: 5 filled.
  EXPECT_EQ(format_progress_bar(mid, 52'341.4, 118), "[#####.......] " + text);
  EXPECT_EQ(format_progress_bar(mid, 52'341.4, 118).size(), 117u) << "the last column stays free";
  // No room for a bar of 10: the text alone, cut to the width.
  EXPECT_EQ(format_progress_bar(mid, 52'341.4, 80), text.substr(0, 79));
  EXPECT_EQ(format_progress_bar(mid, 52'341.4, 0), text.substr(0, 1));
  // No total, no bar.
  EXPECT_EQ(format_progress_bar({5, 0, std::nullopt}, 1, 200), "5 records, event time -, 1.0 records/s");
  EXPECT_EQ(format_progress_bar({5, 5, std::nullopt}, 1, 80),
            "[################] 5 of 5 records (100.0%), event time -, 1.0 records/s, ETA 0s");
}

TEST(ProgressFormatTest, Done) {
  EXPECT_EQ(format_progress_done(2'730'000, 52'100ms), "done: 2,730,000 records in 52.1 s, 52,399 records/s");
  EXPECT_EQ(format_progress_done(10, 49ms), "done: 10 records in 0.0 s, 204 records/s");
  EXPECT_EQ(format_progress_done(0, 0ms), "done: 0 records in 0.0 s");
  EXPECT_EQ(format_progress_done(7, 3'600'000ms), "done: 7 records in 3600.0 s, 0.0 records/s");
}

// What a reporter wrote to a temporary file.
class ProgressReporterTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(file_, nullptr); }
  void TearDown() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  std::string written() {
    std::fflush(file_);
    std::rewind(file_);
    std::string text;
    for (int c; (c = std::fgetc(file_)) != EOF;) text += static_cast<char>(c);
    return text;
  }

  std::FILE* file_ = std::tmpfile();
  const Clock::time_point start_ = Clock::time_point() + 1h;
};

TEST_F(ProgressReporterTest, AFileGetsPlainLines) {
  ProgressReporter reporter(file_, start_);
  EXPECT_FALSE(reporter.on_terminal());
}

// An update every 100 ms at 10,000 records/s for 20 s, then 1,000 records/s:
// a line every 10 s, and the rate of the last 5 s, not the average since the start.
TEST_F(ProgressReporterTest, LinesEveryIntervalWithTheRecentRate) {
  ProgressOptions options;
  options.mode = ProgressOptions::Mode::kLines;
  ProgressReporter reporter(file_, start_, options);
  uint64_t done = 0;
  for (int tick = 0; tick <= 300; ++tick) {
    reporter.update({done, 1'000'000, kMorning + tick * 1'000}, start_ + tick * 100ms);
    done += tick < 200 ? 1'000 : 100;
  }
  reporter.finish({done, 1'000'000, kMorning + 300'000}, start_ + 30'050ms);
  EXPECT_EQ(written(),
            "replay: 0 of 1,000,000 records (0.0%), event time 2026-11-21T09:30:00.000Z, 0.0 records/s, ETA unknown\n"
            "replay: 100,000 of 1,000,000 records (10.0%), event time 2026-11-21T09:31:40.000Z, 10,000 records/s, "
            "ETA 1m30s\n"
            "replay: 200,000 of 1,000,000 records (20.0%), event time 2026-11-21T09:33:20.000Z, 10,000 records/s, "
            "ETA 1m20s\n"
            "replay: 210,000 of 1,000,000 records (21.0%), event time 2026-11-21T09:35:00.000Z, 1,000 records/s, "
            "ETA 13m10s\n"
            "done: 210,100 records in 30.1 s, 6,992 records/s\n");
}

TEST_F(ProgressReporterTest, TerminalRedrawsInPlaceAtMostFourTimesASecond) {
  ProgressOptions options;
  options.mode = ProgressOptions::Mode::kTerminal;
  options.width = 100;
  ProgressReporter reporter(file_, start_, options);
  EXPECT_TRUE(reporter.on_terminal());
  const auto at = [&](int ms, uint64_t done) { reporter.update({done, 1'000, std::nullopt}, start_ + ms * 1ms); };
  at(0, 0);  // drawn: the first update always is
  at(100, 10);
  at(249, 20);
  at(250, 30);  // drawn
  at(400, 40);
  at(600, 60);  // drawn

  const std::string first = format_progress_bar({0, 1'000, std::nullopt}, 0, 100);      // ends "ETA unknown"
  const std::string second = format_progress_bar({30, 1'000, std::nullopt}, 120, 100);  // "ETA 9s": shorter
  const std::string third = format_progress_bar({60, 1'000, std::nullopt}, 100, 100);
  ASSERT_EQ(second.size() + 3, first.size());
  ASSERT_EQ(third.size(), second.size() + 1);
  EXPECT_EQ(written(), "\r" + first + "\r" + second + "   " + "\r" + third);
}

TEST_F(ProgressReporterTest, TerminalBlanksWhatAShorterLineLeavesAndClearsAtTheEnd) {
  ProgressOptions options;
  options.mode = ProgressOptions::Mode::kTerminal;
  options.width = 200;
  ProgressReporter reporter(file_, start_, options);
  reporter.update({0, 5'000'000, kMorning}, start_);
  reporter.update({1'000'000, 5'000'000, kMorning}, start_ + 1s);  // 1,000,000 records/s: a longer line
  reporter.update({1'000'000, 5'000'000, kMorning}, start_ + 7s);  // stalled for the whole window: rate 0
  reporter.finish({1'000'000, 5'000'000, kMorning}, start_ + 8s);
  reporter.finish({1'000'000, 5'000'000, kMorning}, start_ + 9s);   // ignored
  reporter.update({2'000'000, 5'000'000, kMorning}, start_ + 10s);  // ignored

  const std::string first = format_progress_bar({0, 5'000'000, kMorning}, 0, 200);
  const std::string fast = format_progress_bar({1'000'000, 5'000'000, kMorning}, 1'000'000, 200);
  const std::string stalled = format_progress_bar({1'000'000, 5'000'000, kMorning}, 0, 200);
  ASSERT_GT(fast.size(), stalled.size());
  EXPECT_EQ(written(), "\r" + first + "\r" + fast + "\r" + stalled + std::string(fast.size() - stalled.size(), ' ') +
                           "\r" + std::string(stalled.size(), ' ') + "\r" +
                           "done: 1,000,000 records in 8.0 s, 125,000 records/s\n");
}

TEST_F(ProgressReporterTest, FinishWithoutAnyUpdateWritesOnlyTheDoneLine) {
  ProgressOptions options;
  options.mode = ProgressOptions::Mode::kTerminal;
  ProgressReporter reporter(file_, start_, options);
  reporter.finish({0, 0, std::nullopt}, start_ + 1500ms);
  EXPECT_EQ(written(), "done: 0 records in 1.5 s, 0.0 records/s\n");
}

// Updates far more often than the rate's sample spacing (a fiftieth of the
// window) replace the newest sample; the rate still spans the whole window.
TEST_F(ProgressReporterTest, FrequentUpdatesKeepTheRateOverTheWindow) {
  ProgressOptions options;
  options.mode = ProgressOptions::Mode::kLines;
  options.line_interval = 10s;
  ProgressReporter reporter(file_, start_, options);
  for (int ms = 0; ms <= 10'000; ++ms) reporter.update({uint64_t(ms) * 3, 0, std::nullopt}, start_ + ms * 1ms);
  EXPECT_EQ(written(),
            "replay: 0 records, event time -, 0.0 records/s\n"
            "replay: 30,000 records, event time -, 3,000 records/s\n");
}

// On a real terminal (a pseudo-terminal here) the reporter draws a bar as
// wide as the terminal says it is.
TEST(ProgressReporterTerminalTest, DetectsATerminalAndItsWidth) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  // Linux always has pseudo-terminals (/dev/ptmx); not having one is a
  // broken test machine, not a reason to pass.
  ASSERT_GE(master, 0) << std::strerror(errno);
  ASSERT_EQ(::grantpt(master), 0) << std::strerror(errno);
  ASSERT_EQ(::unlockpt(master), 0) << std::strerror(errno);
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  winsize size{};
  size.ws_col = 60;
  ASSERT_EQ(::ioctl(master, TIOCSWINSZ, &size), 0);
  std::FILE* out = ::fdopen(slave, "w");
  ASSERT_NE(out, nullptr);
  {
    ProgressReporter reporter(out, Clock::now());
    EXPECT_TRUE(reporter.on_terminal());
    reporter.update({1, 2, kMorning}, Clock::now());
  }
  std::string seen(256, '\0');
  const ssize_t n = ::read(master, seen.data(), seen.size());
  ASSERT_GT(n, 0);
  seen.resize(static_cast<std::size_t>(n));
  EXPECT_EQ(seen, "\r" + format_progress_bar({1, 2, kMorning}, 0, 60));
  std::fclose(out);
  ::close(master);
}

}  // namespace
}  // namespace kappa
