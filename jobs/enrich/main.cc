// enrich: reads transactions, adds derived fields, writes them on. The demo
// job until fraud scoring replaces it.
#include "jobs/common/job.h"
#include "jobs/enrich/enrich.h"

int main(int argc, char** argv) {
  kappa::Job job("enrich", "Adds the amount in euros, an amount band and the hour of day to each transaction.");
  return job.run(argc, argv, kappa::pipeline<kappa::jobs::Transaction>().map(&kappa::jobs::enrich));
}
