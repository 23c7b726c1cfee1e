#include "automata/cli/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace automata::cli {
namespace {

using std::chrono::milliseconds;

TEST(FormatProgress, HalfDoneWithRate) {
  // 500,000 of 1,000,000 bytes in 500 ms: 15 of 30 cells, 50%, 1.0 MB/s.
  EXPECT_EQ(format_progress("upload", 500'000, 1'000'000, milliseconds(500)),
            "upload [###############...............] 0.5/1.0 MB 50% 1.0 MB/s");
}

TEST(FormatProgress, RoundsDown) {
  // 1/3 of the bar is 3.33 cells of 10, and 333 permille is 33%.
  EXPECT_EQ(format_progress("fetch", 1, 3, milliseconds(0), 10), "fetch [###.......] 0.0/0.0 MB 33%");
  // 12,345,678 bytes in 4 s is 3,086,419 B/s, shown as 3.0 MB/s.
  EXPECT_EQ(format_progress("fetch", 12'345'678, 40'000'000, milliseconds(4000), 10),
            "fetch [###.......] 12.3/40.0 MB 30% 3.0 MB/s");
}

TEST(FormatProgress, ZeroTotalIsFull) {
  EXPECT_EQ(format_progress("x", 0, 0, milliseconds(0), 4), "x [####] 0.0/0.0 MB 100%");
}

TEST(FormatProgress, ClampsDonePastTotal) {
  EXPECT_EQ(format_progress("x", 3'000'000, 2'000'000, milliseconds(1000), 4),
            "x [####] 3.0/2.0 MB 100% 3.0 MB/s");
}

TEST(FormatProgress, NoRateWithoutElapsedTime) {
  std::string line = format_progress("x", 10, 100, milliseconds(0), 4);
  EXPECT_EQ(line.find("MB/s"), std::string::npos) << line;
}

TEST(ProgressBar, DisabledPrintsNothing) {
  std::ostringstream out;
  {
    ProgressBar bar(&out, /*enabled=*/false, "upload", 100);
    bar.add(40);
    bar.add(60);
    EXPECT_EQ(bar.done(), 100u);
    bar.finish();
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressBar, EnabledDrawsAndEndsLine) {
  std::ostringstream out;
  ProgressBar bar(&out, /*enabled=*/true, "fetch", 2'000'000);
  bar.add(1'000'000);
  bar.add(1'000'000);
  bar.finish();
  const std::string text = out.str();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.front(), '\r');
  EXPECT_EQ(text.back(), '\n');
  // The final redraw shows every byte.
  EXPECT_NE(text.rfind("2.0/2.0 MB 100%"), std::string::npos) << text;

  // A second finish() adds nothing.
  bar.finish();
  EXPECT_EQ(out.str(), text);
}

}  // namespace
}  // namespace automata::cli
