// Chain: the Application and ChainQuery implementation. It owns the
// database, the state tree and the executor, and persists each committed
// block with its results, tx index and state version in one synced batch.
#pragma once

#include "automata/execution/application.h"
#include "automata/execution/chain_query.h"
#include "automata/execution/genesis.h"

#include <memory>
#include <string>

namespace automata::execution {

struct ChainOptions {
  std::string db_path;            // RocksDB directory, created if missing
  uint64_t keep_state_versions = 1000;  // heights of state kept for reads
  // Signature checks before apply run on this many threads in batches;
  // 0 means one per hardware core.
  unsigned verify_threads = 0;
};

class Chain : public Application, public ChainQuery {
 public:
  // Opens the chain in options.db_path. An empty database is initialized
  // from genesis (state version 0). A non-empty one must have been created
  // from the same genesis (compared by hash); otherwise returns
  // invalid_argument naming both hashes. Resumes at the last committed
  // block after a crash.
  static Status open(const ChainOptions& options, const Genesis& genesis, std::unique_ptr<Chain>* out);

  ~Chain() override = default;

  virtual const Genesis& genesis() const = 0;
};

}  // namespace automata::execution
