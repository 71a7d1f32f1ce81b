// KafkaTransaction: exactly-once output over Kafka (--exactly-once): the
// runtime's OutputTransaction on the transactional KafkaProducer that every
// Kafka sink of the job shares, committing the positions as the offsets of
// the KafkaSource's consumer group, inside the transaction
// (send_offsets_to_transaction). The source commits nothing itself.
//
// Its counterpart at start-up is committed_offsets(): what the group's
// offsets are once the previous incarnation's transaction has been settled
// (the producer's init_transactions, at open, fences it and aborts its
// open transaction), which says which checkpoint to resume from
// (StoreOptions::committed_offsets).
//
// Threads: the runner's coordinator thread (OutputTransaction's contract).
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "connectors/kafka/kafka_producer.h"
#include "connectors/kafka/kafka_source.h"
#include "runtime/output_transaction.h"

namespace kappa {

class KafkaTransaction final : public OutputTransaction {
 public:
  // REQUIRES: `producer` is transactional; `source` outlives this.
  KafkaTransaction(std::shared_ptr<KafkaProducer> producer, const KafkaSource& source);

  Status begin() override;
  Status commit(const std::vector<PartitionPosition>& positions) override;
  Status abort() override;

  // The next offsets the source's consumer group committed for `partitions`
  // (those without one are left out), as a read_committed consumer sees
  // them: only offsets of committed transactions. Reads them with a
  // short-lived consumer that does not join the group.
  Result<std::map<PartitionId, int64_t>> committed_offsets(const std::vector<PartitionId>& partitions) const;

 private:
  std::shared_ptr<KafkaProducer> producer_;
  const KafkaSource& source_;
};

}  // namespace kappa
