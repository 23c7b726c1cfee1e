// CodeChain: a TestChain with builders for the code and object ops, nonce
// tracking per key, and readers for the stored code records. Each run()
// submits one tx through check_tx and, when it passes, commits it in its
// own block.
#pragma once

#include "automata/crypto/sha256.h"
#include "automata/state/state_tree.h"
#include "automata/types/state_keys.h"
#include "automata/v1/code.pb.h"
#include "automata/v1/code_state.pb.h"
#include "automata/v1/objects.pb.h"
#include "test_chain.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace automata::execution::testing {

using Files = std::vector<std::pair<std::string, std::string>>;  // path, content

inline std::string hash_of(const std::string& content) {
  Hash32 hash = crypto::sha256(as_view(content));
  return std::string(hash.begin(), hash.end());
}

inline std::string raw(const Address& address) { return std::string(address.begin(), address.end()); }
inline std::string raw(const Hash32& hash) { return std::string(hash.begin(), hash.end()); }

template <typename Field>
void fill_tree(Field* tree, const Files& files) {
  for (const auto& [path, content] : files) {
    v1::TreeEntry* entry = tree->Add();
    entry->set_path(path);
    entry->set_blob_hash(hash_of(content));
    entry->set_mode(0644);
  }
}

inline v1::Op upload_op(const std::vector<std::string>& blobs) {
  v1::Op op;
  for (const std::string& blob : blobs) op.mutable_code_upload_blobs()->add_blobs(blob);
  return op;
}

inline v1::Op upload_files_op(const Files& files) {
  std::vector<std::string> blobs;
  for (const auto& file : files) blobs.push_back(file.second);
  return upload_op(blobs);
}

inline v1::Op publish_op(const std::string& name, const Files& files, uint32_t royalty_bps = 0,
                         const std::string& license = "Apache-2.0") {
  v1::Op op;
  v1::CodePublish* publish = op.mutable_code_publish();
  publish->set_name(name);
  publish->set_license(license);
  publish->add_language_tags("cpp");
  publish->set_message("first version");
  publish->set_royalty_bps(royalty_bps);
  fill_tree(publish->mutable_tree(), files);
  return op;
}

inline v1::Op commit_op(const std::string& asset, const std::string& branch, const Files& files,
                        const std::string& message = "change", const std::string& expected_head = "") {
  v1::Op op;
  v1::CodeCommit* commit = op.mutable_code_commit();
  commit->set_asset_id(asset);
  commit->set_branch(branch);
  commit->set_message(message);
  commit->set_expected_head(expected_head);
  fill_tree(commit->mutable_tree(), files);
  return op;
}

inline v1::Op branch_op(const std::string& asset, const std::string& name, v1::CodeBranch::Action action,
                        const std::string& target = "") {
  v1::Op op;
  v1::CodeBranch* branch = op.mutable_code_branch();
  branch->set_asset_id(asset);
  branch->set_name(name);
  branch->set_action(action);
  branch->set_target_version(target);
  return op;
}

inline v1::Op merge_op(const std::string& asset, const std::string& branch, const std::string& other,
                       const Files& files) {
  v1::Op op;
  v1::CodeMerge* merge = op.mutable_code_merge();
  merge->set_asset_id(asset);
  merge->set_branch(branch);
  merge->set_other_version(other);
  merge->set_message("merge");
  fill_tree(merge->mutable_tree(), files);
  return op;
}

inline v1::Op rules_op(const std::string& asset, const std::string& branch, const std::vector<Address>& reviewers,
                       uint32_t required, uint64_t max_change_bytes = 0,
                       const std::vector<std::string>& licenses = {}) {
  v1::Op op;
  v1::CodeSetRules* rules = op.mutable_code_set_rules();
  rules->set_asset_id(asset);
  rules->set_branch(branch);
  for (const Address& reviewer : reviewers) rules->add_reviewers(raw(reviewer));
  rules->set_required_approvals(required);
  rules->set_max_change_bytes(max_change_bytes);
  for (const std::string& license : licenses) rules->add_license_allow_list(license);
  return op;
}

inline v1::Op propose_op(const std::string& asset, const std::string& branch, const Files& files,
                         const std::string& message = "proposal") {
  v1::Op op;
  v1::CodePropose* propose = op.mutable_code_propose();
  propose->set_asset_id(asset);
  propose->set_branch(branch);
  propose->set_message(message);
  fill_tree(propose->mutable_tree(), files);
  return op;
}

inline v1::Op review_op(const std::string& proposal, bool approve) {
  v1::Op op;
  op.mutable_code_review()->set_proposal_id(proposal);
  op.mutable_code_review()->set_approve(approve);
  return op;
}

// children: asset id and pinned version (empty for a composite child).
inline v1::Op compose_op(const std::string& name, const std::vector<std::pair<std::string, std::string>>& children,
                         uint32_t royalty_bps = 0) {
  v1::Op op;
  v1::CodeCompose* compose = op.mutable_code_compose();
  compose->set_name(name);
  compose->set_license("MIT");
  compose->set_royalty_bps(royalty_bps);
  for (const auto& [asset, version] : children) {
    v1::ComposeChild* child = compose->add_children();
    child->set_asset_id(asset);
    child->set_version(version);
  }
  return op;
}

inline v1::Op decompose_op(const std::string& composite) {
  v1::Op op;
  op.mutable_code_decompose()->set_composite_id(composite);
  return op;
}

inline v1::Op transfer_object_op(const std::string& object, const Address& to) {
  v1::Op op;
  op.mutable_object_transfer()->set_object_id(object);
  op.mutable_object_transfer()->set_to(raw(to));
  return op;
}

inline v1::Op grant_op(const std::string& object, const Address& grantee, uint64_t expiry) {
  v1::Op op;
  op.mutable_object_grant_use()->set_object_id(object);
  op.mutable_object_grant_use()->set_grantee(raw(grantee));
  op.mutable_object_grant_use()->set_expiry_height(expiry);
  return op;
}

inline v1::Op offer_op(const std::string& object, const std::string& denom, Amount price,
                       const std::optional<Address>& buyer = std::nullopt, uint64_t expiry = 0) {
  v1::Op op;
  v1::OfferCreate* offer = op.mutable_offer_create();
  offer->set_object_id(object);
  *offer->mutable_price() = coin(denom, price);
  if (buyer) offer->set_buyer(raw(*buyer));
  offer->set_expiry_height(expiry);
  return op;
}

inline v1::Op accept_op(const std::string& offer) {
  v1::Op op;
  op.mutable_offer_accept()->set_offer_id(offer);
  return op;
}

inline v1::Op cancel_op(const std::string& offer) {
  v1::Op op;
  op.mutable_offer_cancel()->set_offer_id(offer);
  return op;
}

// What happened to one submitted tx.
struct Outcome {
  ResultCode code = ResultCode::kOk;
  std::string log;
  bool included = false;
  v1::TxResult result;

  // Id of the created object of the given kind at position index among them.
  std::string created(const std::string& kind, size_t index = 0) const {
    size_t seen = 0;
    for (const v1::CreatedObject& object : result.created()) {
      if (object.kind() != kind) continue;
      if (seen++ == index) return object.id();
    }
    ADD_FAILURE() << "no created " << kind << " #" << index << " in tx result (code " << result.code() << ")";
    return std::string(32, '\0');
  }
};

inline ChainParameters code_params() {
  ChainParameters params;
  params.max_gas_per_tx = 100'000'000;
  return params;
}

class CodeChain {
 public:
  explicit CodeChain(size_t accounts = 6, ChainParameters params = code_params()) : chain_(accounts, params) {}

  TestChain& base() { return chain_; }
  const TestKey& key(size_t i) const { return chain_.key(i); }
  Address address(size_t i) const { return chain_.key(i).address; }
  uint64_t height() { return chain_.chain().last_height(); }

  // Builds a tx from key i with the next nonce.
  Bytes tx(size_t i, const std::vector<v1::Op>& ops, uint64_t gas = 20'000'000) {
    TxSpec spec;
    spec.ops = ops;
    spec.nonce = nonces_[i];
    spec.gas_limit = gas;
    return chain_.make_tx(chain_.key(i), spec);
  }

  // Submits the ops as one tx from key i and commits it in a block.
  Outcome run(size_t i, const std::vector<v1::Op>& ops, uint64_t gas = 20'000'000) {
    return run_tx(i, tx(i, ops, gas));
  }

  Outcome run_tx(size_t i, const Bytes& bytes) {
    Outcome outcome;
    TxCheck check = chain_.submit(bytes);
    outcome.code = check.code;
    outcome.log = check.log;
    if (check.code != ResultCode::kOk) return outcome;
    ++nonces_[i];
    Status status = chain_.close_block();
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    outcome.result = chain_.result_of(bytes);
    outcome.included = true;
    outcome.code = static_cast<ResultCode>(outcome.result.code());
    outcome.log = outcome.result.log();
    return outcome;
  }

  // Commits an empty block.
  void skip_block() {
    Status status = chain_.close_block();
    EXPECT_TRUE(status.is_ok()) << status.to_string();
  }

  std::optional<Bytes> raw_state(const Bytes& key) {
    std::optional<Bytes> value;
    state::StateProof proof;
    uint64_t at = 0;
    Status status = chain_.chain().state_proof(key, std::nullopt, &value, &proof, &at);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    return value;
  }

  template <typename Message>
  bool read(const Bytes& key, Message* message) {
    auto value = raw_state(key);
    if (!value) return false;
    return message->ParseFromArray(value->data(), static_cast<int>(value->size()));
  }

  v1::ObjectEnvelope object(const std::string& id) {
    v1::ObjectEnvelope out;
    EXPECT_TRUE(read(keys::object(as_view(id)), &out)) << "object " << to_hex(as_view(id)) << " not stored";
    return out;
  }

  v1::CodeAsset asset(const std::string& id) {
    v1::CodeAsset body;
    EXPECT_TRUE(body.ParseFromString(object(id).body()));
    return body;
  }

  std::string head(const std::string& id, const std::string& branch = "main") {
    v1::CodeAsset body = asset(id);
    for (const v1::BranchRef& ref : body.branches()) {
      if (ref.name() == branch) return ref.version();
    }
    return "";
  }

  v1::StoredVersion version(const std::string& id) {
    v1::StoredVersion out;
    EXPECT_TRUE(read(keys::version(as_view(id)), &out)) << "version " << to_hex(as_view(id)) << " not stored";
    return out;
  }

  bool has_blob(const std::string& content) { return raw_state(keys::blob(as_view(hash_of(content)))).has_value(); }

  Amount balance(size_t i, const std::string& denom) { return chain_.balance(address(i), denom); }

  // Publishes files as key i in one tx (upload then publish); returns the
  // asset id.
  std::string publish(size_t i, const std::string& name, const Files& files, uint32_t royalty_bps = 0) {
    Outcome outcome = run(i, {upload_files_op(files), publish_op(name, files, royalty_bps)});
    EXPECT_EQ(outcome.code, ResultCode::kOk) << outcome.log;
    return outcome.created("asset");
  }

 private:
  TestChain chain_;
  std::map<size_t, uint64_t> nonces_;
};

}  // namespace automata::execution::testing
