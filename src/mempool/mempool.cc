#include "automata/mempool/mempool.h"

#include "automata/crypto/bech32.h"
#include "automata/types/amount.h"
#include "automata/types/logging.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <queue>
#include <utility>

namespace automata::mempool {

using execution::ResultCode;
using execution::TxCheck;

namespace {

// How many times add_batch checks a batch again when a block commits
// between its checks and its insertion. After that the batch is inserted
// anyway and the next update() rechecks it.
constexpr int kMaxStaleCheckRetries = 3;

// Compares fee / gas_limit of two txs exactly: a.fee * b.gas vs b.fee * a.gas
// in 128 bits. A gas_limit of 0 (which check_tx rejects) counts as 1.
int compare_fee_per_gas(uint64_t fee_a, uint64_t gas_a, uint64_t fee_b, uint64_t gas_b) {
  Amount lhs = Amount{fee_a} * std::max<uint64_t>(gas_b, 1);
  Amount rhs = Amount{fee_b} * std::max<uint64_t>(gas_a, 1);
  if (lhs < rhs) return -1;
  return lhs > rhs ? 1 : 0;
}

std::string describe_fee(uint64_t fee, uint64_t gas_limit) {
  return "fee " + std::to_string(fee) + " atm, gas_limit " + std::to_string(gas_limit);
}

}  // namespace

bool Mempool::LowestPriorityFirst::operator()(const Entry* a, const Entry* b) const {
  int by_fee = compare_fee_per_gas(a->fee, a->gas_limit, b->fee, b->gas_limit);
  if (by_fee != 0) return by_fee < 0;
  // Among equal fee per gas, the later arrival has the lower priority.
  return a->seq > b->seq;
}

Mempool::Mempool(execution::Application* app, MempoolConfig config) : app_(app), config_(config) {
  by_hash_.reserve(std::min<size_t>(config_.max_txs, 1u << 16));
}

Mempool::~Mempool() = default;

AddResult Mempool::add(Bytes tx_bytes) {
  std::vector<Bytes> batch;
  batch.push_back(std::move(tx_bytes));
  return std::move(add_batch(std::move(batch)).front());
}

std::vector<AddResult> Mempool::add_batch(std::vector<Bytes> txs, std::string source) {
  std::vector<AddResult> results(txs.size());
  std::shared_ptr<const std::string> shared_source;
  if (!source.empty()) shared_source = std::make_shared<const std::string>(std::move(source));

  // A relayed tx usually reaches a node from several peers. The copies
  // after the first are byte-identical to the pooled tx, so they are
  // rejected here, before check_tx decodes them and reads the state.
  std::vector<size_t> to_check;
  to_check.reserve(txs.size());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < txs.size(); ++i) {
      auto found = by_bytes_.find(bytes_key(txs[i]));
      if (found == by_bytes_.end()) {
        to_check.push_back(i);
        continue;
      }
      const Hash32& hash = found->second->hash;
      results[i] = {ResultCode::kAlreadyInMempool, "tx " + to_hex(hash) + " is already in the mempool", hash, false};
    }
  }
  if (to_check.empty()) return results;

  std::vector<TxCheck> checks(to_check.size());
  std::function<void()> callback;
  bool added = false;
  for (int attempt = 0;; ++attempt) {
    uint64_t generation = update_generation_.load(std::memory_order_acquire);
    // NOTE: checks run one after another on the calling thread, so callers
    // that need more throughput split their txs over several add_batch calls.
    for (size_t k = 0; k < to_check.size(); ++k) checks[k] = app_->check_tx(txs[to_check[k]]);

    std::lock_guard<std::mutex> lock(mutex_);
    if (update_generation_.load(std::memory_order_relaxed) != generation && attempt < kMaxStaleCheckRetries) {
      continue;  // A block committed meanwhile, so check again against the new state.
    }
    for (size_t k = 0; k < to_check.size(); ++k) {
      size_t i = to_check[k];
      results[i] = insert_locked(checks[k], std::move(txs[i]), shared_source);
      if (results[i].code == ResultCode::kOk) added = true;
    }
    if (added) callback = on_new_tx_;
    break;
  }

  if (callback) callback();
  return results;
}

std::string_view Mempool::bytes_key(const Bytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

AddResult Mempool::insert_locked(const TxCheck& check, Bytes&& tx_bytes,
                                 const std::shared_ptr<const std::string>& source) {
  if (check.code != ResultCode::kOk && check.code != ResultCode::kNonceTooHigh) {
    return {check.code, check.log, check.hash, false};
  }
  if (by_hash_.count(check.hash) != 0) {
    return {ResultCode::kAlreadyInMempool, "tx " + to_hex(check.hash) + " is already in the mempool", check.hash,
            false};
  }

  auto account_it = accounts_.find(check.sender);
  uint64_t next_nonce = check.expected_nonce;
  if (account_it != accounts_.end()) next_nonce = std::max(next_nonce, account_it->second.next_nonce);

  if (check.nonce < next_nonce) {
    return {ResultCode::kNonceTooLow,
            "nonce " + std::to_string(check.nonce) + " is below the next nonce " + std::to_string(next_nonce) +
                " of sender " + crypto::encode_address(check.sender),
            check.hash, false};
  }
  if (check.nonce - next_nonce > config_.max_nonce_gap) {
    return {ResultCode::kNonceTooHigh,
            "nonce " + std::to_string(check.nonce) + " is more than max_nonce_gap " +
                std::to_string(config_.max_nonce_gap) + " above the next nonce " + std::to_string(next_nonce) +
                " of sender " + crypto::encode_address(check.sender) + ". Send the missing nonces first",
            check.hash, false};
  }

  size_t size = tx_bytes.size();
  if (size > config_.max_bytes) {
    return {ResultCode::kMempoolFull,
            "tx of " + std::to_string(size) + " bytes is larger than the mempool's max_bytes " +
                std::to_string(config_.max_bytes),
            check.hash, false};
  }

  // A pooled tx with the same sender and nonce is replaced only by a higher fee.
  const Entry* replaced = nullptr;
  if (account_it != accounts_.end()) {
    auto same_nonce = account_it->second.txs.find(check.nonce);
    if (same_nonce != account_it->second.txs.end()) {
      replaced = &same_nonce->second;
      if (check.fee <= replaced->fee) {
        return {ResultCode::kInsufficientFee,
                "fee " + std::to_string(check.fee) + " does not exceed the fee " + std::to_string(replaced->fee) +
                    " of pooled tx " + to_hex(replaced->hash) + " with the same sender " +
                    crypto::encode_address(check.sender) + " and nonce " + std::to_string(check.nonce) +
                    " (another command may have signed it at the same time). Wait for that tx to commit and "
                    "submit again, which takes the next nonce, or pay a higher fee to replace it",
                check.hash, false};
      }
    }
  }

  size_t count_after = by_hash_.size() + (replaced != nullptr ? 0 : 1);
  size_t bytes_after = total_bytes_ + size - (replaced != nullptr ? replaced->bytes->size() : 0);
  std::vector<const Entry*> victims;
  if (!plan_evictions_locked(check, count_after, bytes_after, &victims)) {
    std::string cap = count_after > config_.max_txs ? "max_txs " + std::to_string(config_.max_txs)
                                                    : "max_bytes " + std::to_string(config_.max_bytes);
    return {ResultCode::kMempoolFull,
            "mempool is full (" + cap + ") and no pooled tx has a lower fee per gas than this tx (" +
                describe_fee(check.fee, check.gas_limit) + "). Raise the fee or retry later",
            check.hash, false};
  }
  for (const Entry* victim : victims) {
    logger("mempool")->debug("evicted tx {} (sender {} nonce {}) for tx {}", to_hex(victim->hash),
                             crypto::encode_address(victim->sender), victim->nonce, to_hex(check.hash));
    Address sender = victim->sender;
    uint64_t nonce = victim->nonce;
    erase_locked(sender, nonce);
  }

  // Eviction may have removed the sender's account, so look it up again.
  Account& account = accounts_[check.sender];
  account.next_nonce = std::max(account.next_nonce, next_nonce);
  untrack_tail_locked(account);

  Entry& entry = account.txs[check.nonce];
  std::string log;
  if (entry.bytes != nullptr) {
    log = "replaced tx " + to_hex(entry.hash) + " with fee " + std::to_string(entry.fee);
    by_hash_.erase(entry.hash);
    by_bytes_.erase(bytes_key(*entry.bytes));
    total_bytes_ -= entry.bytes->size();
  }
  entry.bytes = std::make_shared<const Bytes>(std::move(tx_bytes));
  entry.hash = check.hash;
  entry.sender = check.sender;
  entry.nonce = check.nonce;
  entry.fee = check.fee;
  entry.gas_limit = check.gas_limit;
  entry.expiry_height = check.expiry_height;
  entry.seq = next_seq_++;
  by_hash_.emplace(entry.hash, &entry);
  by_bytes_.emplace(bytes_key(*entry.bytes), &entry);
  total_bytes_ += size;
  if (relay_enabled_) {
    if (relay_queue_.size() >= config_.max_txs) {
      relay_queue_.pop_front();
      ++relay_dropped_;
    }
    relay_queue_.push_back({entry.bytes, entry.hash, source});
  }
  track_tail_locked(account);
  extend_executable_end(account);

  // NOTE: check_tx stops at kNonceTooHigh before the fee and expiry checks,
  // so a tx that was held and is now executable has not had them yet. The
  // next update() recheck or the block builder rejects it if they fail.
  bool queued = check.nonce >= account.executable_end;
  if (queued) {
    if (!log.empty()) log += ". ";
    log += "held until nonce " + std::to_string(account.executable_end) + " of the sender arrives";
  }
  return {ResultCode::kOk, std::move(log), check.hash, queued};
}

bool Mempool::plan_evictions_locked(const TxCheck& check, size_t count_after, size_t bytes_after,
                                    std::vector<const Entry*>* victims) const {
  // Walks the eviction candidates from the lowest priority up without
  // changing the pool. Candidates are the tails of the accounts' nonce
  // chains. Once a tail is picked, the tx below it in the same account
  // becomes a candidate (kept in `uncovered`), so no chain loses a middle tx.
  auto tail_it = tails_.begin();
  TailSet uncovered;
  while (count_after > config_.max_txs || bytes_after > config_.max_bytes) {
    const Entry* candidate = nullptr;
    bool from_tails = false;
    if (tail_it != tails_.end()) {
      candidate = *tail_it;
      from_tails = true;
    }
    if (!uncovered.empty() && (candidate == nullptr || LowestPriorityFirst()(*uncovered.begin(), candidate))) {
      candidate = *uncovered.begin();
      from_tails = false;
    }
    if (candidate == nullptr) return false;
    if (from_tails) {
      ++tail_it;
    } else {
      uncovered.erase(uncovered.begin());
    }

    // Evicting a tx of the sender at or below the new nonce would either
    // remove the tx being replaced or leave the new tx behind a gap. The
    // rest of that account's chain is lower still, so it is skipped whole.
    if (candidate->sender == check.sender && candidate->nonce <= check.nonce) continue;
    // Candidates come in rising priority, so once one is not strictly below
    // the new tx's fee per gas, none of the others is.
    if (compare_fee_per_gas(check.fee, check.gas_limit, candidate->fee, candidate->gas_limit) <= 0) return false;

    victims->push_back(candidate);
    count_after -= 1;
    bytes_after -= candidate->bytes->size();

    const auto& chain = accounts_.at(candidate->sender).txs;
    auto position = chain.find(candidate->nonce);
    if (position != chain.begin()) uncovered.insert(&std::prev(position)->second);
  }
  return true;
}

void Mempool::erase_locked(const Address& sender, uint64_t nonce) {
  auto account_it = accounts_.find(sender);
  if (account_it == accounts_.end()) return;
  Account& account = account_it->second;
  auto entry_it = account.txs.find(nonce);
  if (entry_it == account.txs.end()) return;

  untrack_tail_locked(account);
  by_hash_.erase(entry_it->second.hash);
  by_bytes_.erase(bytes_key(*entry_it->second.bytes));
  total_bytes_ -= entry_it->second.bytes->size();
  account.txs.erase(entry_it);
  if (account.txs.empty()) {
    accounts_.erase(account_it);
    return;
  }
  track_tail_locked(account);
  // Removing an executable tx makes the ones above it wait again.
  if (nonce >= account.next_nonce && nonce < account.executable_end) account.executable_end = nonce;
}

void Mempool::extend_executable_end(Account& account) {
  account.executable_end = std::max(account.executable_end, account.next_nonce);
  auto it = account.txs.lower_bound(account.executable_end);
  while (it != account.txs.end() && it->first == account.executable_end) {
    ++account.executable_end;
    ++it;
  }
}

void Mempool::untrack_tail_locked(const Account& account) {
  if (!account.txs.empty()) tails_.erase(&account.txs.rbegin()->second);
}

void Mempool::track_tail_locked(const Account& account) {
  if (!account.txs.empty()) tails_.insert(&account.txs.rbegin()->second);
}

std::vector<Bytes> Mempool::reap(size_t max_txs, size_t max_bytes) const {
  struct Head {
    const Entry* entry;
    std::map<uint64_t, Entry>::const_iterator next;
    std::map<uint64_t, Entry>::const_iterator end;
  };
  // std::priority_queue puts the greatest element on top, so "less" is the
  // lower priority.
  auto lower_priority = [](const Head& a, const Head& b) { return LowestPriorityFirst()(a.entry, b.entry); };
  std::priority_queue<Head, std::vector<Head>, decltype(lower_priority)> heads(lower_priority);

  std::vector<Bytes> out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [sender, account] : accounts_) {
    auto first = account.txs.lower_bound(account.next_nonce);
    auto end = account.txs.lower_bound(account.executable_end);
    if (first != end) heads.push({&first->second, std::next(first), end});
  }

  size_t bytes_left = max_bytes;
  while (!heads.empty() && out.size() < max_txs) {
    Head head = heads.top();
    heads.pop();
    size_t size = head.entry->bytes->size();
    if (size > bytes_left) continue;  // this account's later nonces cannot go in either
    out.push_back(*head.entry->bytes);
    bytes_left -= size;
    if (head.next != head.end) heads.push({&head.next->second, std::next(head.next), head.end});
  }
  return out;
}

bool Mempool::has_executable() const {
  std::lock_guard<std::mutex> lock(mutex_);
  // Usually returns at the first account. It walks every account only when
  // all pooled txs are held.
  for (const auto& [sender, account] : accounts_) {
    if (account.executable_end > account.next_nonce) return true;
  }
  return false;
}

void Mempool::update(uint64_t height, const std::vector<Hash32>& committed) {
  update_with(height, committed, nullptr);
}

void Mempool::update(uint64_t height, const std::vector<Hash32>& committed, const std::vector<Address>& senders) {
  update_with(height, committed, &senders);
}

void Mempool::update_with(uint64_t height, const std::vector<Hash32>& committed, const std::vector<Address>* senders) {
  std::lock_guard<std::mutex> update_lock(update_mutex_);

  // Phase 1: drop the committed txs and snapshot the rest for the recheck:
  // every tx, or with senders only the txs of those accounts and the ones
  // that expire before the next height.
  std::vector<std::shared_ptr<const Bytes>> snapshot;
  size_t removed_committed = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::set<Address> touched;
    if (senders != nullptr) touched.insert(senders->begin(), senders->end());
    for (const Hash32& hash : committed) {
      auto found = by_hash_.find(hash);
      if (found == by_hash_.end()) continue;
      Address sender = found->second->sender;
      uint64_t nonce = found->second->nonce;
      if (senders != nullptr) touched.insert(sender);
      erase_locked(sender, nonce);
      ++removed_committed;
    }
    if (senders == nullptr) {
      snapshot.reserve(by_hash_.size());
      for (const auto& [sender, account] : accounts_) {
        for (const auto& [nonce, entry] : account.txs) snapshot.push_back(entry.bytes);
      }
    } else {
      for (const Address& sender : touched) {
        auto account = accounts_.find(sender);
        if (account == accounts_.end()) continue;
        for (const auto& [nonce, entry] : account->second.txs) snapshot.push_back(entry.bytes);
      }
      for (const auto& [sender, account] : accounts_) {
        if (touched.count(sender) != 0) continue;
        for (const auto& [nonce, entry] : account.txs) {
          if (entry.expiry_height != 0 && entry.expiry_height <= height) snapshot.push_back(entry.bytes);
        }
      }
    }
    update_generation_.fetch_add(1, std::memory_order_release);
  }

  // Phase 2: recheck against the new state without blocking adds.
  std::vector<TxCheck> checks;
  checks.reserve(snapshot.size());
  for (const auto& bytes : snapshot) checks.push_back(app_->check_tx(*bytes));

  // Phase 3: drop what the new state rejects. A tx added or evicted since
  // the snapshot is skipped by looking it up by hash.
  size_t dropped = 0;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const TxCheck& check : checks) {
    auto found = by_hash_.find(check.hash);
    if (found == by_hash_.end()) continue;
    Address sender = found->second->sender;
    uint64_t nonce = found->second->nonce;

    auto account_it = accounts_.find(sender);
    if (check.code == ResultCode::kOk || check.code == ResultCode::kNonceTooHigh ||
        check.code == ResultCode::kNonceTooLow) {
      account_it->second.next_nonce = std::max(account_it->second.next_nonce, check.expected_nonce);
    }
    bool keep = check.code == ResultCode::kOk ||
                (check.code == ResultCode::kNonceTooHigh && nonce >= account_it->second.next_nonce &&
                 nonce - account_it->second.next_nonce <= config_.max_nonce_gap);
    if (!keep) {
      logger("mempool")->debug("dropped tx {} (sender {} nonce {}) at height {}: {} {}", to_hex(check.hash),
                               crypto::encode_address(sender), nonce, height, execution::result_code_name(check.code),
                               check.log);
      erase_locked(sender, nonce);
      ++dropped;
    }
  }

  // Txs below an account's next nonce can no longer be included. This sweep
  // also catches ones added between the snapshot and now.
  for (auto account_it = accounts_.begin(); account_it != accounts_.end();) {
    Account& account = account_it->second;
    ++account_it;  // erase_locked may remove the account
    bool erased_account = false;
    while (account.txs.begin()->first < account.next_nonce) {
      Address sender = account.txs.begin()->second.sender;
      erased_account = account.txs.size() == 1;
      erase_locked(sender, account.txs.begin()->first);
      ++dropped;
      if (erased_account) break;
    }
    if (!erased_account) extend_executable_end(account);
  }

  logger("mempool")->debug("updated to height {}: removed {} committed and {} rejected txs, {} txs remain", height,
                           removed_committed, dropped, by_hash_.size());
}

size_t Mempool::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_hash_.size();
}

size_t Mempool::size_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return total_bytes_;
}

bool Mempool::contains(const Hash32& hash) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_hash_.count(hash) != 0;
}

std::optional<Bytes> Mempool::get(const Hash32& hash) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = by_hash_.find(hash);
  if (found == by_hash_.end()) return std::nullopt;
  return *found->second->bytes;
}

std::optional<uint64_t> Mempool::pending_nonce(const Address& sender) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto account_it = accounts_.find(sender);
  if (account_it == accounts_.end()) return std::nullopt;
  return account_it->second.executable_end;
}

void Mempool::set_on_new_tx(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mutex_);
  on_new_tx_ = std::move(callback);
}

void Mempool::enable_relay_queue() {
  std::lock_guard<std::mutex> lock(mutex_);
  relay_enabled_ = true;
}

std::vector<RelayTx> Mempool::take_relay_txs(size_t max_txs) {
  std::vector<RelayTx> out;
  uint64_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t count = std::min(max_txs, relay_queue_.size());
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      RelayTx& front = relay_queue_.front();
      // A tx committed, evicted or replaced since it was queued is not sent.
      if (by_hash_.count(front.hash) != 0) out.push_back(std::move(front));
      relay_queue_.pop_front();
    }
    std::swap(dropped, relay_dropped_);
  }
  if (dropped > 0) {
    logger("mempool")->warn("relay queue full: {} txs were dropped without being relayed", dropped);
  }
  return out;
}

}  // namespace automata::mempool
