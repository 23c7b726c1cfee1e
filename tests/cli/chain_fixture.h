// A real StateTree in a temp dir plus the block_get and state_proof JSON a
// node would send for it, so the CLI's proof checks run against real proofs.
#pragma once

#include "automata/crypto/sha256.h"
#include "automata/state/state_tree.h"
#include "automata/storage/database.h"
#include "automata/types/state_keys.h"
#include "automata/v1/block.pb.h"
#include "automata/v1/state.pb.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>

namespace automata::cli::testing {

class ChainFixture {
 public:
  ChainFixture() {
    Status s = storage::Database::open(temp_.path() + "/db", &db_);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    s = state::StateTree::open(db_.get(), 100, &tree_);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
  }

  // Serialized Account with the given nonce and atm balance.
  static Bytes account_value(uint64_t nonce, const std::string& atm) {
    v1::Account account;
    account.set_nonce(nonce);
    v1::Coin* coin = account.add_balances();
    coin->set_denom("atm");
    coin->set_amount(atm);
    std::string bytes;
    account.SerializeToString(&bytes);
    return to_bytes(bytes);
  }

  // Commits changes as the next version and records a block header for it.
  void commit(const state::ChangeSet& changes) {
    storage::WriteBatch batch;
    Hash32 root{};
    uint64_t version = tree_->latest_version() + 1;
    Status s = tree_->apply(version, changes, batch, &root);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    ASSERT_TRUE(db_->write(batch, false).is_ok());
    tree_->commit_applied();

    v1::BlockHeader header;
    header.set_chain_id("automata-test");
    header.set_height(version);
    header.set_time_ms(1'700'000'000'000 + version);
    header.set_prev_hash(std::string(32, '\0'));
    header.set_state_root(std::string(root.begin(), root.end()));
    header.set_proposer(std::string(20, '\x07'));
    std::string header_bytes;
    header.SerializeToString(&header_bytes);
    headers_[version] = to_bytes(header_bytes);
  }

  uint64_t height() const { return tree_->latest_version(); }

  // The block_get result for a height, as the RPC contract defines it.
  nlohmann::json block_json(uint64_t height) const {
    const Bytes& header_bytes = headers_.at(height);
    return {{"hash", to_hex(crypto::sha256(header_bytes))},
            {"header", {{"height", height}}},
            {"header_bytes", to_hex(header_bytes)},
            {"proposer_signature", std::string(128, '0')},
            {"txs", nlohmann::json::array()},
            {"results", nlohmann::json::array()}};
  }

  // The state_proof result for key at height, built from StateTree::prove.
  nlohmann::json proof_json(uint64_t height, ByteView key) const {
    state::StateProof proof;
    std::optional<Bytes> value;
    Status s = tree_->prove(height, key, &proof, &value);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    Hash32 root{};
    EXPECT_TRUE(tree_->root_at(height, &root).is_ok());
    nlohmann::json siblings = nlohmann::json::array();
    for (const auto& sibling : proof.siblings) siblings.push_back(to_hex(sibling));
    auto hash_or_null = [](const std::optional<Hash32>& h) {
      return h ? nlohmann::json(to_hex(*h)) : nlohmann::json(nullptr);
    };
    return {{"height", height},
            {"key", to_hex(key)},
            {"value", value ? nlohmann::json(to_hex(*value)) : nlohmann::json(nullptr)},
            {"exists", value.has_value()},
            {"root", to_hex(root)},
            {"proof",
             {{"key_hash", to_hex(proof.key_hash)},
              {"leaf_key_hash", hash_or_null(proof.leaf_key_hash)},
              {"leaf_value_hash", hash_or_null(proof.leaf_value_hash)},
              {"siblings", siblings}}}};
  }

 private:
  TempDir temp_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<state::StateTree> tree_;
  std::map<uint64_t, Bytes> headers_;
};

}  // namespace automata::cli::testing
