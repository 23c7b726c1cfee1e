// Transfer throughput of the whole block path: prepare_block (decode,
// parallel signature checks, execution, state tree apply), the proposer
// signature, finalize_block and a synced commit, over a state of many
// funded accounts.
//
// Usage: apply_bench [accounts=1000000] [blocks=10] [txs_per_block=5000] [mode=serial]
// Prints transfers per second over the measured blocks.
//
// mode serial: each block's txs reach prepare_block unchecked, so their
// signatures are checked inside it (on every core) and each block starts
// after the previous one is committed.
// mode pipelined: a second thread runs check_tx (signature included) over
// block N+1's txs while block N is prepared and committed, as the node's
// mempool checks a tx when it arrives. prepare_block then skips the
// signatures it finds verified and checks the rest itself. Every signature
// is still checked inside the timed window: the first block's in
// prepare_block, later ones' by the admission thread.
#include "automata/crypto/keys.h"
#include "automata/crypto/sha256.h"
#include "automata/execution/chain.h"
#include "automata/types/logging.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/tx.pb.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sys/resource.h>
#include <thread>
#include <string>
#include <vector>

using namespace automata;
using Clock = std::chrono::steady_clock;

namespace {

// User plus system CPU time of the whole process (every thread), in seconds.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

crypto::PrivateKey sender_key(uint64_t index) {
  std::string seed = "apply_bench/sender/" + std::to_string(index);
  // A SHA-256 output is a valid scalar except with negligible probability.
  return *crypto::PrivateKey::from_bytes(crypto::sha256(as_view(seed)));
}

Address plain_address(uint64_t index) {
  std::string seed = "apply_bench/account/" + std::to_string(index);
  Hash32 digest = crypto::sha256(as_view(seed));
  Address out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

Bytes signed_transfer(const crypto::PrivateKey& key, const crypto::PublicKey& pubkey, const Address& to,
                      const std::string& chain_id) {
  v1::TxBody body;
  body.set_chain_id(chain_id);
  body.set_signer(pubkey.data(), pubkey.size());
  body.set_nonce(0);
  body.set_gas_limit(20'000);
  body.mutable_fee()->set_denom("atm");
  body.mutable_fee()->set_amount("20000");
  v1::Transfer* transfer = body.add_ops()->mutable_transfer();
  transfer->set_to(to.data(), to.size());
  v1::Coin* coin = transfer->add_amount();
  coin->set_denom("atm");
  coin->set_amount("1");
  v1::Tx tx;
  tx.set_body_bytes(body.SerializeAsString());
  crypto::Signature signature = key.sign(crypto::sha256(as_view(tx.body_bytes())));
  tx.set_signature(signature.data(), signature.size());
  return to_bytes(tx.SerializeAsString());
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t accounts = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const uint64_t blocks = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10;
  const uint64_t per_block = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 5'000;
  const std::string mode = argc > 4 ? argv[4] : "serial";
  if (mode != "serial" && mode != "pipelined") {
    std::fprintf(stderr, "invalid mode '%s': use serial or pipelined\n", mode.c_str());
    return 2;
  }
  const bool pipelined = mode == "pipelined";
  const uint64_t senders = blocks * per_block;
  if (senders > accounts) {
    std::fprintf(stderr, "blocks * txs_per_block (%llu) must not exceed accounts (%llu)\n",
                 static_cast<unsigned long long>(senders), static_cast<unsigned long long>(accounts));
    return 2;
  }
  set_log_level("warn");

  // Each sender signs one tx (nonce 0) to a random account; the other
  // accounts are plain funded addresses.
  auto start = Clock::now();
  execution::Genesis genesis;
  genesis.chain_id = "bench";
  genesis.genesis_time_ms = 1;
  genesis.params.max_block_txs = per_block;
  crypto::PrivateKey validator = sender_key(~uint64_t{0});
  genesis.validators.push_back({validator.public_key(), 1, "bench-validator"});
  std::vector<crypto::PrivateKey> keys;
  std::vector<crypto::PublicKey> pubkeys;
  keys.reserve(senders);
  genesis.accounts.reserve(accounts);
  for (uint64_t i = 0; i < accounts; ++i) {
    Address address{};
    if (i < senders) {
      keys.push_back(sender_key(i));
      pubkeys.push_back(keys.back().public_key());
      address = crypto::address_of(pubkeys.back());
    } else {
      address = plain_address(i);
    }
    genesis.accounts.push_back({address, {{"atm", Amount{1'000'000'000}}}});
  }
  std::mt19937_64 random(42);
  std::vector<Bytes> txs;
  txs.reserve(senders);
  for (uint64_t i = 0; i < senders; ++i) {
    const Address& to = genesis.accounts[random() % accounts].address;
    txs.push_back(signed_transfer(keys[i], pubkeys[i], to, genesis.chain_id));
  }
  std::printf("built genesis of %llu accounts and %llu signed transfers in %.1f s\n",
              static_cast<unsigned long long>(accounts), static_cast<unsigned long long>(senders),
              seconds_since(start));

  std::string dir = "/tmp/automata_apply_bench";
  std::filesystem::remove_all(dir);
  execution::ChainOptions options;
  options.db_path = dir;
  start = Clock::now();
  std::unique_ptr<execution::Chain> chain;
  Status status = execution::Chain::open(options, genesis, &chain);
  if (!status.is_ok()) {
    std::fprintf(stderr, "opening the chain failed: %s\n", status.to_string().c_str());
    return 1;
  }
  std::printf("loaded genesis state in %.1f s\n", seconds_since(start));

  Address proposer = crypto::address_of(validator.public_key());
  double total_seconds = 0;
  double total_cpu_seconds = 0;
  uint64_t committed = 0;
  for (uint64_t b = 0; b < blocks; ++b) {
    std::vector<Bytes> candidates(txs.begin() + static_cast<long>(b * per_block),
                                  txs.begin() + static_cast<long>((b + 1) * per_block));
    auto block_start = Clock::now();
    double cpu_start = process_cpu_seconds();
    // Admission of the next block's txs, as the mempool would do, overlaps
    // this block. A rejected tx would show up as a failed block below.
    std::thread admission;
    if (pipelined && b + 1 < blocks) {
      admission = std::thread([&chain, &txs, b, per_block] {
        for (uint64_t i = (b + 1) * per_block; i < (b + 2) * per_block; ++i) chain->check_tx(ByteView(txs[i]));
      });
    }
    execution::BlockContext context{chain->last_height() + 1, 1'000 * (b + 1), proposer, {}};
    v1::Block block;
    status = chain->prepare_block(context, candidates, &block);
    double prepare_seconds = seconds_since(block_start);
    auto finalize_start = Clock::now();
    if (status.is_ok()) {
      crypto::Signature signature = validator.sign(crypto::sha256(as_view(block.header_bytes())));
      block.set_proposer_signature(signature.data(), signature.size());
      status = chain->finalize_block(block);
    }
    double finalize_seconds = seconds_since(finalize_start);
    auto commit_start = Clock::now();
    if (status.is_ok()) status = chain->commit();
    double commit_seconds = seconds_since(commit_start);
    if (admission.joinable()) admission.join();
    if (!status.is_ok()) {
      std::fprintf(stderr, "block %llu failed: %s\n", static_cast<unsigned long long>(b + 1),
                   status.to_string().c_str());
      return 1;
    }
    double seconds = seconds_since(block_start);
    double cpu_seconds = process_cpu_seconds() - cpu_start;
    total_seconds += seconds;
    total_cpu_seconds += cpu_seconds;
    committed += static_cast<uint64_t>(block.txs_size());
    std::printf(
        "block %llu: %d txs in %.3f s (prepare %.3f, finalize %.3f, commit %.3f): %.0f transfers/s, %.1f CPU us/tx\n",
        static_cast<unsigned long long>(b + 1), block.txs_size(), seconds, prepare_seconds, finalize_seconds,
        commit_seconds, block.txs_size() / seconds, cpu_seconds * 1e6 / block.txs_size());
  }
  std::printf("total: %llu transfers in %.3f s = %.0f transfers/s, %.1f CPU us per transfer (all threads)\n",
              static_cast<unsigned long long>(committed), total_seconds, committed / total_seconds,
              total_cpu_seconds * 1e6 / static_cast<double>(committed));
  chain.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
