// Every built-in aggregate in one include: agg::count, sum, min, max, mean,
// variance, stddev, first, last, distinct and aggregates(...) (see each
// header for what it computes and its edge cases; aggregate.h for the
// concept they satisfy).
#pragma once

#include "operators/aggregate/aggregate.h"
#include "operators/aggregate/count.h"
#include "operators/aggregate/distinct.h"
#include "operators/aggregate/first.h"
#include "operators/aggregate/last.h"
#include "operators/aggregate/max.h"
#include "operators/aggregate/mean.h"
#include "operators/aggregate/min.h"
#include "operators/aggregate/sum.h"
#include "operators/aggregate/tuple.h"
#include "operators/aggregate/variance.h"
