// Mempool: signed txs waiting for a block. Admission goes through
// Application::check_tx. Txs are kept in nonce order per account and picked
// across accounts by fee per gas. The pool is capped by count and bytes,
// deduplicated by tx hash, and rechecked against the new state after every
// committed block. Each added tx can also be queued once for relay to peers.
#pragma once

#include "automata/execution/application.h"
#include "automata/execution/result_code.h"
#include "automata/types/bytes.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace automata::mempool {

struct MempoolConfig {
  size_t max_txs = 50000;           // executable and future txs together
  size_t max_bytes = 64u << 20;     // sum of the encoded tx sizes
  uint64_t max_nonce_gap = 64;      // max distance of a held tx above the account's next nonce
};

// The outcome of offering one tx to the pool. code is kOk when the tx was
// added or replaced a pooled one. Otherwise code is the rejection, and log
// names the value and the rule that failed.
struct AddResult {
  execution::ResultCode code = execution::ResultCode::kOk;
  std::string log;
  Hash32 hash{};        // zero when check_tx could not compute it
  bool queued = false;  // added, but held until the account's lower nonces arrive
};

// A pooled tx waiting to be relayed to peers, taken by take_relay_txs.
struct RelayTx {
  std::shared_ptr<const Bytes> bytes;
  Hash32 hash{};
  // The source passed to add_batch, or null when that source was empty.
  std::shared_ptr<const std::string> source;
};

class Mempool {
 public:
  // app must outlive the mempool, and its check_tx must be thread-safe.
  Mempool(execution::Application* app, MempoolConfig config);
  ~Mempool();
  Mempool(const Mempool&) = delete;
  Mempool& operator=(const Mempool&) = delete;

  // Checks one tx with app->check_tx (outside the lock) and adds it.
  // Thread-safe. Same result as add_batch with a single tx.
  AddResult add(Bytes tx_bytes);

  // Checks every tx outside the lock, then adds them in order under one lock
  // acquisition, so later txs of the batch see earlier ones (a batch may
  // carry nonces n, n+1, n+2 of one account). A tx whose bytes equal a
  // pooled tx's bytes is rejected before check_tx runs. source is an opaque
  // label (such as the peer id a relayed batch came from) that take_relay_txs
  // returns with each added tx; empty means none. Returns one result per tx,
  // in input order. Rejection codes:
  //   any code from check_tx other than kOk and kNonceTooHigh
  //   kAlreadyInMempool  the hash is already pooled
  //   kNonceTooLow       the nonce is below the account's next nonce
  //   kNonceTooHigh      the nonce is more than max_nonce_gap above it
  //   kInsufficientFee   same sender and nonce as a pooled tx with a fee at
  //                      least as high
  //   kMempoolFull       a cap is reached and no pooled tx may be evicted
  // Thread-safe.
  std::vector<AddResult> add_batch(std::vector<Bytes> txs, std::string source = {});

  // Returns up to max_txs executable txs whose sizes sum to at most
  // max_bytes, in an order a block can include them. Each step takes the
  // account head with the highest fee per gas (ties: earliest arrival), so
  // every account's nonces stay contiguous from its next nonce. When an
  // account's next tx does not fit in the bytes left, that account is done
  // and smaller txs of other accounts may still be taken. Deterministic for
  // a given sequence of adds. Thread-safe; the pool is not modified.
  std::vector<Bytes> reap(size_t max_txs, size_t max_bytes) const;

  // True when reap would return at least one tx. Thread-safe.
  bool has_executable() const;

  // Call after each committed block. Removes the committed hashes, then runs
  // check_tx on every remaining tx against the new state (outside the lock)
  // and drops those now rejected, e.g. nonce too low or fee unpayable. Held
  // txs whose gap closed become executable. height is the committed block's.
  // Thread-safe; concurrent update calls run one after the other.
  void update(uint64_t height, const std::vector<Hash32>& committed);

  // update() that rechecks only the txs whose result the block can have
  // changed: those of the block's signers (senders lists the signer of
  // every tx in the block) and those that expire before height + 1.
  // check_tx reads only the signer's account, whose nonce and balance only
  // the signer's own txs lower, so the other txs keep their result.
  void update(uint64_t height, const std::vector<Hash32>& committed, const std::vector<Address>& senders);

  size_t size() const;        // pooled txs, executable and held
  size_t size_bytes() const;  // sum of their encoded sizes
  bool contains(const Hash32& hash) const;
  std::optional<Bytes> get(const Hash32& hash) const;

  // The account's next nonce counting its contiguous pooled txs, i.e. the
  // nonce a new tx from sender should carry. nullopt when sender has no
  // pooled tx (then the committed account nonce applies).
  std::optional<uint64_t> pending_nonce(const Address& sender) const;

  // Sets the function called after an add or add_batch that added at least
  // one tx (held ones included). It is called outside the lock, on the
  // adding thread, so it must be cheap and thread-safe (e.g. signal a
  // condition variable).
  void set_on_new_tx(std::function<void()> callback);

  // Starts queueing every added tx (held and replacing ones included) for
  // relay, in the order added. Until this is called nothing is queued. The
  // queue keeps at most max_txs entries and drops the oldest past that.
  void enable_relay_queue();
  // Removes up to max_txs txs from the front of the relay queue and returns
  // those still pooled, in the order they were added. Thread-safe.
  std::vector<RelayTx> take_relay_txs(size_t max_txs);

 private:
  struct Entry {
    // Shared with update()'s recheck snapshot and the relay queue.
    std::shared_ptr<const Bytes> bytes;
    Hash32 hash{};
    Address sender{};
    uint64_t nonce = 0;
    uint64_t fee = 0;
    uint64_t gas_limit = 0;
    uint64_t expiry_height = 0;  // 0: never expires
    uint64_t seq = 0;  // arrival order, unique
  };
  struct Account {
    uint64_t next_nonce = 0;  // highest expected_nonce check_tx reported
    // The first nonce at or above next_nonce with no pooled tx. The txs in
    // [next_nonce, executable_end) are executable and the ones above are held.
    uint64_t executable_end = 0;
    // By nonce. When a concurrent check raised next_nonce, the txs below it
    // stay until the next update() but are never reaped.
    std::map<uint64_t, Entry> txs;
  };
  // Orders entries from the lowest priority (lowest fee per gas, then the
  // latest arrival) to the highest.
  struct LowestPriorityFirst {
    bool operator()(const Entry* a, const Entry* b) const;
  };
  using TailSet = std::set<const Entry*, LowestPriorityFirst>;

  static std::string_view bytes_key(const Bytes& bytes);
  AddResult insert_locked(const execution::TxCheck& check, Bytes&& tx_bytes,
                          const std::shared_ptr<const std::string>& source);
  bool plan_evictions_locked(const execution::TxCheck& check, size_t count_after, size_t bytes_after,
                             std::vector<const Entry*>* victims) const;
  void erase_locked(const Address& sender, uint64_t nonce);
  static void extend_executable_end(Account& account);
  void untrack_tail_locked(const Account& account);
  void track_tail_locked(const Account& account);

  execution::Application* const app_;
  const MempoolConfig config_;

  mutable std::mutex mutex_;
  // Guarded by mutex_: the pool itself.
  std::map<Address, Account> accounts_;
  std::unordered_map<Hash32, const Entry*, Hash32FirstBytes> by_hash_;  // lookups only, never iterated
  // The same entries keyed by their encoded bytes (views into Entry::bytes),
  // so a byte-identical resubmission is found without decoding or hashing
  // it. Lookups only, never iterated.
  std::unordered_map<std::string_view, const Entry*> by_bytes_;
  TailSet tails_;  // the highest-nonce tx of each account: the eviction candidates
  size_t total_bytes_ = 0;
  uint64_t next_seq_ = 0;
  std::function<void()> on_new_tx_;
  bool relay_enabled_ = false;
  std::deque<RelayTx> relay_queue_;  // oldest first
  uint64_t relay_dropped_ = 0;  // queue entries dropped at the cap since the last take

  // Both update()s. senders is null for a full recheck.
  void update_with(uint64_t height, const std::vector<Hash32>& committed, const std::vector<Address>* senders);

  // Serializes update() calls, which run check_tx between two lock
  // acquisitions of mutex_. Always taken before mutex_.
  std::mutex update_mutex_;
  // Incremented (under mutex_) each time update() snapshots the pool for
  // recheck. add_batch compares it before and after its checks: a batch
  // checked against the state before a block but inserted after that
  // block's snapshot would skip the recheck, so it is checked again.
  std::atomic<uint64_t> update_generation_{0};
};

}  // namespace automata::mempool
