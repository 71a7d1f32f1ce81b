// The demo enrichment: derived fields a fraud model or a dashboard would
// want, computed from one transaction alone.
#pragma once

#include "jobs/proto/transaction.pb.h"

namespace kappa::jobs {

EnrichedTransaction enrich(const Transaction& transaction);

}  // namespace kappa::jobs
