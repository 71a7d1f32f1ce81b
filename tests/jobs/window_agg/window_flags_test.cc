#include "jobs/window_agg/window_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kappa::window_agg {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::HasSubstr;

WindowChoice window_of(std::string_view text) {
  Result<WindowChoice> w = parse_window(text);
  EXPECT_TRUE(w.is_ok()) << text << ": " << w.status().message();
  return w.is_ok() ? *w : WindowChoice{};
}

std::string window_error(std::string_view text) {
  Result<WindowChoice> w = parse_window(text);
  EXPECT_FALSE(w.is_ok()) << text << " parsed";
  return w.is_ok() ? "" : w.status().message();
}

TEST(ParseWindow, EveryForm) {
  EXPECT_EQ(window_of("tumbling:1m"), (WindowChoice{WindowKind::kTumbling, 1min, 1min, 0ms, 0ms}));
  EXPECT_EQ(window_of("tumbling:1h+15m"), (WindowChoice{WindowKind::kTumbling, 1h, 1h, 15min, 0ms}));
  EXPECT_EQ(window_of("hopping:10m/1m"), (WindowChoice{WindowKind::kHopping, 10min, 1min, 0ms, 0ms}));
  EXPECT_EQ(window_of("hopping:7s/7s"), (WindowChoice{WindowKind::kHopping, 7s, 7s, 0ms, 0ms}));
  EXPECT_EQ(window_of("hopping:10s/3s"), (WindowChoice{WindowKind::kHopping, 10s, 3s, 0ms, 0ms}));
  EXPECT_EQ(window_of("rolling:1h"), (WindowChoice{WindowKind::kRolling, 1h, 0ms, 0ms, 0ms}));
  EXPECT_EQ(window_of("rolling:1h/500ms"), (WindowChoice{WindowKind::kRolling, 1h, 0ms, 0ms, 500ms}));
  EXPECT_EQ(window_of("rolling:7d/0"), (WindowChoice{WindowKind::kRolling, 24h * 7, 0ms, 0ms, 0ms}));
  EXPECT_EQ(window_of("none"), WindowChoice{});
}

TEST(ParseWindow, BadFormsNameTheFlagAndTheAcceptedForms) {
  const auto forms = HasSubstr("accepted: tumbling:SIZE[+OFFSET], hopping:SIZE/SLIDE, rolling:SIZE[/DELAY] or none");
  EXPECT_THAT(window_error("tumbling:abc"),
              AllOf(HasSubstr("--window 'tumbling:abc'"), HasSubstr("'abc' is not a duration"), forms));
  EXPECT_THAT(window_error("tumbling:"), AllOf(HasSubstr("is not a duration"), forms));
  EXPECT_THAT(window_error("tumbling:0s"), AllOf(HasSubstr("the size must be more than 0"), forms));
  EXPECT_THAT(window_error("tumbling:1m+1m"), HasSubstr("the offset must be less than the size"));
  EXPECT_THAT(window_error("tumbling:1m+x"), HasSubstr("'x' is not a duration"));
  EXPECT_THAT(window_error("hopping:1m"), HasSubstr("hopping needs a slide, as in hopping:10m/1m"));
  EXPECT_THAT(window_error("hopping:1m/5m"), HasSubstr("the slide must be more than 0 and at most the size"));
  EXPECT_THAT(window_error("hopping:1m/0s"), HasSubstr("the slide must be more than 0"));
  EXPECT_THAT(window_error("rolling:0ms"), HasSubstr("the size must be more than 0"));
  EXPECT_THAT(window_error("rolling:1h/-1s"), HasSubstr("'-1s' is not a duration"));
  EXPECT_THAT(window_error("sliding:1m"), AllOf(HasSubstr("--window 'sliding:1m': not a window"), forms));
  EXPECT_THAT(window_error("tumbling"), AllOf(HasSubstr("not a window"), forms));
  EXPECT_THAT(window_error(""), HasSubstr("not a window"));
  EXPECT_THAT(window_error("Tumbling:1m"), HasSubstr("not a window"));
  EXPECT_THAT(window_error("tumbling:200000000d"), HasSubstr("too long"));
}

std::vector<AggregateSpec> aggregates_of(std::string_view text) {
  Result<std::vector<AggregateSpec>> specs = parse_aggregates(text);
  EXPECT_TRUE(specs.is_ok()) << text << ": " << specs.status().message();
  return specs.is_ok() ? *specs : std::vector<AggregateSpec>{};
}

std::string aggregates_error(std::string_view text) {
  Result<std::vector<AggregateSpec>> specs = parse_aggregates(text);
  EXPECT_FALSE(specs.is_ok()) << text << " parsed";
  return specs.is_ok() ? "" : specs.status().message();
}

TEST(ParseAggregates, ListsInOrder) {
  const std::vector<AggregateSpec> all =
      aggregates_of("count,sum,min,max,mean,variance,stddev,first,last,distinct:merchant,distinct:ip");
  std::vector<std::string> names;
  for (const AggregateSpec& spec : all) names.push_back(spec.output_name());
  EXPECT_EQ(names, (std::vector<std::string>{"count", "sum", "min", "max", "mean", "variance", "stddev", "first",
                                             "last", "distinct_merchant", "distinct_ip"}));
  EXPECT_EQ(all[9], (AggregateSpec{AggregateKind::kDistinct, "merchant"}));
  EXPECT_EQ(aggregates_of("count"), (std::vector<AggregateSpec>{{AggregateKind::kCount, ""}}));
  EXPECT_EQ(aggregates_of(" mean , count "),
            (std::vector<AggregateSpec>{{AggregateKind::kMean, ""}, {AggregateKind::kCount, ""}}));
}

TEST(ParseAggregates, BadListsNameTheItemAndTheAcceptedNames) {
  const auto names =
      HasSubstr("accepted, comma-separated: count, sum, min, max, mean, variance, stddev, first, last, distinct:FIELD");
  EXPECT_THAT(aggregates_error("median"), AllOf(HasSubstr("--agg 'median': 'median' is not an aggregate"), names));
  EXPECT_THAT(aggregates_error("count,Sum"), AllOf(HasSubstr("'Sum' is not an aggregate"), names));
  EXPECT_THAT(aggregates_error(""), HasSubstr("name at least one aggregate"));
  EXPECT_THAT(aggregates_error("count,"), HasSubstr("an empty item"));
  EXPECT_THAT(aggregates_error("count,,sum"), HasSubstr("an empty item"));
  EXPECT_THAT(aggregates_error("distinct"), HasSubstr("distinct needs a field, as in distinct:merchant"));
  EXPECT_THAT(aggregates_error("distinct:"), HasSubstr("distinct needs a field"));
  EXPECT_THAT(aggregates_error("sum,count,sum"), HasSubstr("'sum' appears twice"));
  EXPECT_THAT(aggregates_error("distinct:a,distinct:a"), HasSubstr("'distinct:a' appears twice"));
}

WindowAggFlags example_flags() {
  WindowAggFlags flags;
  flags.key = "card";
  flags.time = "ts";
  flags.value = "amount";
  flags.window = "tumbling:1m";
  flags.aggregates = "count,sum,mean,stddev,min,max,distinct:merchant";
  flags.out_of_orderness = "5s";
  flags.lateness = "0";
  flags.emit = "final";
  return flags;
}

std::string config_error(const WindowAggFlags& flags) {
  Result<WindowAggConfig> config = make_config(flags);
  EXPECT_FALSE(config.is_ok());
  return config.is_ok() ? "" : config.status().message();
}

TEST(MakeConfig, TheExampleCommand) {
  Result<WindowAggConfig> config = make_config(example_flags());
  ASSERT_TRUE(config.is_ok()) << config.status().message();
  EXPECT_EQ(config->key_field, "card");
  EXPECT_EQ(config->time_field, "ts");
  EXPECT_EQ(config->value_field, "amount");
  EXPECT_EQ(config->window.kind, WindowKind::kTumbling);
  EXPECT_EQ(config->aggregates.size(), 7u);
  EXPECT_EQ(config->out_of_orderness, 5s);
  EXPECT_EQ(config->lateness, 0ms);
  EXPECT_EQ(config->emit, EmitMode::kFinal);
  EXPECT_EQ(config->ttl, 0ms);
}

TEST(MakeConfig, Defaults) {
  WindowAggFlags flags;
  flags.key = "card";
  flags.window = "none";
  flags.aggregates = "count,distinct:merchant";
  Result<WindowAggConfig> config = make_config(flags);
  ASSERT_TRUE(config.is_ok()) << config.status().message();
  EXPECT_EQ(config->time_field, "");   // the record's timestamp
  EXPECT_EQ(config->value_field, "");  // no aggregate reads it
  EXPECT_EQ(config->out_of_orderness, 0ms);
  EXPECT_EQ(config->emit, EmitMode::kFinal);
}

TEST(MakeConfig, ValueIsNeededByAggregatesThatReadIt) {
  for (const char* agg : {"sum", "min", "max", "mean", "variance", "stddev", "first", "last"}) {
    WindowAggFlags flags = example_flags();
    flags.value.clear();
    flags.aggregates = std::string("count,") + agg;
    EXPECT_EQ(config_error(flags),
              "--agg " + std::string(agg) + " needs --value FIELD, the number field it aggregates");
  }
  WindowAggFlags flags = example_flags();
  flags.value.clear();
  flags.aggregates = "count,distinct:merchant";
  EXPECT_TRUE(make_config(flags).is_ok());
}

TEST(MakeConfig, FlagsThatDoNotApplyToTheWindow) {
  WindowAggFlags flags = example_flags();
  flags.window = "rolling:1h";
  flags.emit = "updates";
  EXPECT_THAT(config_error(flags), AllOf(HasSubstr("--emit updates applies to tumbling and hopping windows only"),
                                         HasSubstr("(--window is rolling)")));
  flags.window = "none";
  EXPECT_THAT(config_error(flags), HasSubstr("(--window is none)"));

  flags = example_flags();
  flags.window = "rolling:1h";
  flags.lateness = "1m";
  EXPECT_THAT(config_error(flags), HasSubstr("--lateness applies to tumbling and hopping windows only"));
  flags.lateness = "0";  // the default is fine anywhere
  EXPECT_TRUE(make_config(flags).is_ok());

  flags = example_flags();
  flags.ttl = "1d";
  EXPECT_THAT(config_error(flags), HasSubstr("--ttl applies to --window none only"));
  flags.window = "none";
  flags.lateness.clear();
  Result<WindowAggConfig> config = make_config(flags);
  ASSERT_TRUE(config.is_ok()) << config.status().message();
  EXPECT_EQ(config->ttl, 24h);

  flags = example_flags();
  flags.window = "hopping:1m/10s";
  flags.emit = "updates";
  flags.lateness = "30s";
  config = make_config(flags);
  ASSERT_TRUE(config.is_ok()) << config.status().message();
  EXPECT_EQ(config->emit, EmitMode::kUpdates);
  EXPECT_EQ(config->lateness, 30s);
}

TEST(MakeConfig, BadValues) {
  WindowAggFlags flags = example_flags();
  flags.emit = "always";
  EXPECT_EQ(config_error(flags), "--emit 'always': accepted: final or updates");
  flags = example_flags();
  flags.out_of_orderness = "5";
  EXPECT_THAT(config_error(flags), HasSubstr("--out-of-orderness '5': '5' is not a duration"));
  flags = example_flags();
  flags.lateness = "soon";
  EXPECT_THAT(config_error(flags), HasSubstr("--lateness 'soon'"));
  flags = example_flags();
  flags.window = "tumbling:abc";
  EXPECT_THAT(config_error(flags), HasSubstr("--window 'tumbling:abc'"));
  flags = example_flags();
  flags.aggregates = "median";
  EXPECT_THAT(config_error(flags), HasSubstr("--agg 'median'"));
  flags = example_flags();
  flags.key.clear();
  EXPECT_THAT(config_error(flags), HasSubstr("--key FIELD is needed"));
}

TEST(MakeConfig, KeyMustNotCollideWithAnOutputField) {
  WindowAggFlags flags = example_flags();
  flags.key = "count";
  EXPECT_THAT(config_error(flags), HasSubstr("--key 'count' has the name of an output field"));
  flags.key = "window_start";
  EXPECT_THAT(config_error(flags), HasSubstr("--key 'window_start'"));
  flags.key = "distinct_merchant";
  EXPECT_THAT(config_error(flags), HasSubstr("--key 'distinct_merchant'"));
  flags.key = "window_start";
  flags.window = "none";
  EXPECT_TRUE(make_config(flags).is_ok());  // no window fields without windows
}

}  // namespace
}  // namespace kappa::window_agg
