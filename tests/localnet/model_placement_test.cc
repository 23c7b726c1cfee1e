// Model fragment placement on a four-validator localnet. The real CLI
// registers a safetensors file and uploads it to node 0, and the
// validators pull and attest the fragments placed on them. A transfer
// starts a new epoch that moves fragments. The new owner then fetches the
// file through a surviving node after a holder is killed.
#include "automata/cli/code_client.h"
#include "automata/crypto/bech32.h"
#include "automata/crypto/keys.h"
#include "automata/crypto/merkle.h"
#include "automata/crypto/sha256.h"
#include "localnet/localnet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>

namespace automata::localnet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;

constexpr uint64_t kFragmentSize = 65536;
constexpr size_t kReplication = 2;
// Bytes an encrypted fragment adds to its plaintext: a 12-byte nonce and
// a 16-byte tag.
constexpr uint64_t kSealOverhead = 28;

// Fragment index -> node addresses (bech32m) that hold it.
using Placement = std::map<uint64_t, std::vector<std::string>>;

// Writes a safetensors file of about 1.17 MiB in the format's layout: a
// little-endian u64 header length, a JSON header padded with spaces to a
// multiple of 8 bytes, then the tensor data. The data is pseudo-random so
// that every fragment differs. Returns the whole file.
std::string write_safetensors(const fs::path& path) {
  constexpr uint64_t kWeightBytes = 300ull * 1024 * 4;  // F32 [300, 1024]
  constexpr uint64_t kBiasBytes = 1024ull * 2;          // F16 [1024]
  std::string header = json{{"__metadata__", {{"format", "pt"}}},
                            {"embed.weight", {{"dtype", "F32"}, {"shape", {300, 1024}}, {"data_offsets", {0, kWeightBytes}}}},
                            {"proj.bias",
                             {{"dtype", "F16"},
                              {"shape", {1024}},
                              {"data_offsets", {kWeightBytes, kWeightBytes + kBiasBytes}}}}}
                           .dump();
  header.append((8 - header.size() % 8) % 8, ' ');

  std::string file;
  const uint64_t length = header.size();
  for (int shift = 0; shift < 64; shift += 8) file.push_back(static_cast<char>((length >> shift) & 0xFF));
  file += header;
  std::mt19937 rng(20261204);
  for (uint64_t i = 0; i < kWeightBytes + kBiasBytes; ++i) file.push_back(static_cast<char>(rng() & 0xFF));
  std::ofstream(path, std::ios::binary) << file;
  return file;
}

// Imports the testnet's funded key from DIR/dev.json as "dev".
void import_dev_key(const Localnet& net) {
  auto key = json::parse(read_file(net.dev_key_path()), nullptr, false);
  ASSERT_TRUE(key.is_object()) << net.dev_key_path();
  const CommandResult imported =
      net.cli(0, {"--no-passphrase", "keys", "import", "dev", key.value("secret_key", "")});
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
}

// Runs a CLI command that signs a tx with --wait and checks that it
// committed with code 0.
void expect_committed(const Localnet& net, size_t i, std::vector<std::string> args) {
  args.insert(args.begin(), "--no-passphrase");
  args.insert(args.end(), {"--wait", "--timeout", "60"});
  const CommandResult result = net.cli(i, args);
  ASSERT_EQ(result.exit_code, 0) << args[1] << " " << args[2] << ": " << result.out << result.err;
  EXPECT_NE(result.out.find("code 0"), std::string::npos) << result.out;
}

// Bech32m address of validator i, from the pubkey in its validator key file.
std::string validator_address(const Localnet& net, size_t i) {
  auto key = json::parse(read_file(net.home(i) / "validator_key.json"), nullptr, false);
  if (!key.is_object()) return "";
  auto pubkey = from_hex(key.value("pubkey", ""));
  if (!pubkey || pubkey->size() != 32) return "";
  crypto::PublicKey xonly{};
  std::copy(pubkey->begin(), pubkey->end(), xonly.begin());
  return crypto::encode_address(crypto::address_of(xonly));
}

// The placement computed here from the validator keys: each fragment on
// the kReplication nodes with the highest SHA-256("automata/placement" ||
// model id || BE u64 epoch || BE u32 index || x-only pubkey).
Placement expected_placement(const Localnet& net, const Bytes& model_id, uint64_t epoch, uint64_t count) {
  std::vector<crypto::PublicKey> pubkeys;
  for (size_t i = 0; i < net.size(); ++i) {
    auto key = json::parse(read_file(net.home(i) / "validator_key.json"), nullptr, false);
    auto bytes = from_hex(key.is_object() ? key.value("pubkey", "") : "");
    crypto::PublicKey pubkey{};
    if (bytes && bytes->size() == 32) std::copy(bytes->begin(), bytes->end(), pubkey.begin());
    pubkeys.push_back(pubkey);
  }
  const std::string tag = "automata/placement";
  Placement placement;
  for (uint64_t index = 0; index < count; ++index) {
    Bytes prefix(tag.begin(), tag.end());
    prefix.insert(prefix.end(), model_id.begin(), model_id.end());
    for (int shift = 56; shift >= 0; shift -= 8) prefix.push_back(static_cast<uint8_t>(epoch >> shift));
    for (int shift = 24; shift >= 0; shift -= 8) prefix.push_back(static_cast<uint8_t>(index >> shift));
    std::vector<std::pair<Hash32, size_t>> scores;
    for (size_t node = 0; node < pubkeys.size(); ++node) {
      Bytes input = prefix;
      input.insert(input.end(), pubkeys[node].begin(), pubkeys[node].end());
      scores.emplace_back(crypto::sha256(input), node);
    }
    std::sort(scores.begin(), scores.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t k = 0; k < std::min(kReplication, scores.size()); ++k) {
      placement[index].push_back(
          crypto::encode_address(crypto::address_of(pubkeys[scores[k].second])));
    }
  }
  return placement;
}

json model_get(const Localnet& net, size_t i, const std::string& id) {
  const json reply = net.rpc(i, "model_get", {{"id", id}});
  return reply.contains("result") ? reply["result"] : json();
}

// Waits until node i reports the model available at an epoch of at least
// min_epoch and owned by owner.
bool wait_available(const Localnet& net, size_t i, const std::string& id, uint64_t min_epoch,
                    const std::string& owner) {
  return wait_until(
      [&] {
        const json model = model_get(net, i, id);
        return model.is_object() && model.value("available", false) && model.value("epoch", uint64_t{0}) >= min_epoch &&
               model.value("owner", "") == owner;
      },
      seconds(90));
}

// Reads model_placement from node i as fragment -> holders, checking
// that every fragment's holders all attested.
Placement read_placement(const Localnet& net, size_t i, const std::string& id, uint64_t* epoch) {
  Placement placement;
  const json reply = net.rpc(i, "model_placement", {{"id", id}});
  EXPECT_TRUE(reply.contains("result")) << "node" << i << ": " << reply.dump();
  if (!reply.contains("result")) return placement;
  const json& result = reply["result"];
  *epoch = result.value("epoch", uint64_t{0});
  EXPECT_EQ(result.value("replication", uint64_t{0}), kReplication) << "node" << i;
  EXPECT_TRUE(result.value("available", false)) << "node" << i;
  for (const auto& fragment : result["fragments"]) {
    const uint64_t index = fragment.value("index", uint64_t{0});
    const auto holders = fragment.value("holders", std::vector<std::string>{});
    auto attested = fragment.value("attested", std::vector<std::string>{});
    auto sorted_holders = holders;
    std::sort(sorted_holders.begin(), sorted_holders.end());
    std::sort(attested.begin(), attested.end());
    EXPECT_EQ(attested, sorted_holders) << "node" << i << " fragment " << index;
    placement[index] = holders;
  }
  return placement;
}

// The indices of model_fragments_held on node i, or {UINT64_MAX} when the
// call fails.
std::set<uint64_t> held_on(const Localnet& net, size_t i, const std::string& id) {
  const json reply = net.rpc(i, "model_fragments_held", {{"id", id}});
  if (!reply.contains("result")) return {UINT64_MAX};
  const auto held = reply["result"].value("held", std::vector<uint64_t>{});
  return {held.begin(), held.end()};
}

std::set<uint64_t> placed_on(const Placement& placement, const std::string& address) {
  std::set<uint64_t> indices;
  for (const auto& [index, holders] : placement) {
    if (std::find(holders.begin(), holders.end(), address) != holders.end()) indices.insert(index);
  }
  return indices;
}

std::string describe(const std::set<uint64_t>& indices) {
  std::string text = "{";
  for (uint64_t index : indices) text += (text.size() > 1 ? "," : "") + std::to_string(index);
  return text + "}";
}

// Checks that placement is the same on every node and matches the
// rendezvous placement computed here, that each fragment has two distinct
// holders and that more than two nodes hold something. Then waits until
// each node holds exactly the fragments placed on it.
void expect_placed_and_held(const Localnet& net, const std::vector<size_t>& nodes, const std::string& id,
                            uint64_t count, Placement* out, uint64_t* out_epoch) {
  uint64_t epoch = 0;
  const Placement placement = read_placement(net, nodes[0], id, &epoch);
  ASSERT_EQ(placement.size(), count);
  for (size_t k = 1; k < nodes.size(); ++k) {
    uint64_t other_epoch = 0;
    EXPECT_EQ(read_placement(net, nodes[k], id, &other_epoch), placement) << "node" << nodes[k];
    EXPECT_EQ(other_epoch, epoch) << "node" << nodes[k];
  }
  EXPECT_EQ(placement, expected_placement(net, *from_hex(id), epoch, count)) << "epoch " << epoch;

  std::set<std::string> all_holders;
  for (const auto& [index, holders] : placement) {
    ASSERT_EQ(holders.size(), kReplication) << "fragment " << index;
    EXPECT_NE(holders[0], holders[1]) << "fragment " << index;
    all_holders.insert(holders.begin(), holders.end());
  }
  EXPECT_GT(all_holders.size(), kReplication) << "every fragment sits on the same nodes";

  for (size_t i : nodes) {
    const std::set<uint64_t> placed = placed_on(placement, validator_address(net, i));
    std::set<uint64_t> held;
    // Once the model is available, the worker drops copies that are no
    // longer placed on its node in its next pass, which may come a block
    // later.
    wait_until(
        [&] {
          held = held_on(net, i, id);
          return held == placed;
        },
        seconds(30));
    EXPECT_EQ(held, placed) << "node" << i << " holds " << describe(held) << " but placement assigns it "
                            << describe(placed);
  }
  *out = placement;
  *out_epoch = epoch;
}

class ModelPlacementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(net_.start_all(&error)) << error;
    ASSERT_TRUE(wait_until(
        [&] {
          return std::all_of(all_.begin(), all_.end(), [&](size_t i) {
            const json status = net_.rpc(i, "node_status");
            return status.contains("result") && status["result"].value("height", uint64_t{0}) >= 2 &&
                   status["result"]["peers"].size() == 3;
          });
        },
        seconds(60)))
        << "the localnet did not reach height 2 with every node connected to 3 peers\n"
        << net_.read_log(0);
    ASSERT_NO_FATAL_FAILURE(import_dev_key(net_));
  }

  // Registers the file as "dev" without upload, uploads it to node 0
  // alone, waits until it is available and checks placement and holdings
  // on every node. Sets id_, content_, count_, dev_, first_ and
  // first_epoch_.
  void register_and_place() {
    const fs::path model_path = net_.root() / "tiny.safetensors";
    content_ = write_safetensors(model_path);
    count_ = (content_.size() + kFragmentSize - 1) / kFragmentSize;
    ASSERT_GE(count_, 18u);

    const CommandResult registered =
        net_.cli(0, {"--no-passphrase", "--output", "json", "model", "register", model_path.string(), "--from", "dev",
                     "--fragment-size", std::to_string(kFragmentSize), "--no-upload", "--wait", "--timeout", "60"});
    ASSERT_EQ(registered.exit_code, 0) << registered.out << registered.err;
    const json summary = json::parse(registered.out, nullptr, false);
    ASSERT_TRUE(summary.is_object()) << registered.out;
    EXPECT_EQ(summary.value("code", uint64_t{1}), 0u) << registered.out;
    EXPECT_EQ(summary.value("format", ""), "safetensors");
    EXPECT_EQ(summary.value("fragment_count", uint64_t{0}), count_);
    id_ = summary.value("id", "");
    ASSERT_EQ(id_.size(), 64u) << registered.out;

    const CommandResult uploaded = net_.cli(0, {"--output", "json", "model", "upload", id_});
    ASSERT_EQ(uploaded.exit_code, 0) << uploaded.out << uploaded.err;
    const json upload = json::parse(uploaded.out, nullptr, false);
    ASSERT_TRUE(upload.is_object()) << uploaded.out;
    // Node 0 stored every fragment, including the ones placement gives to
    // other nodes, so its final holdings show that staging copies go away.
    EXPECT_EQ(upload.value("stored", uint64_t{0}), count_) << uploaded.out;

    dev_ = model_get(net_, 0, id_).value("owner", "");
    ASSERT_FALSE(dev_.empty());
    // Every node must have committed the block that made it available
    // before the placement reports are compared.
    for (size_t i : all_) {
      ASSERT_TRUE(wait_available(net_, i, id_, 0, dev_))
          << "node" << i << " does not show the model available: " << model_get(net_, i, id_).dump() << "\n"
          << net_.read_log(i);
    }
    ASSERT_NO_FATAL_FAILURE(expect_placed_and_held(net_, all_, id_, count_, &first_, &first_epoch_));
    EXPECT_LT(placed_on(first_, validator_address(net_, 0)).size(), count_);
  }

  // Funds a new key "buyer", has it sign a tx so its pubkey is on chain,
  // transfers the model to it and checks the new epoch's placement and
  // holdings. Sets buyer_, second_ and second_epoch_.
  void transfer_and_replace() {
    const auto buyer_key = crypto::PrivateKey::generate();
    buyer_ = crypto::encode_address(crypto::address_of(buyer_key.public_key()));
    const CommandResult imported =
        net_.cli(0, {"--no-passphrase", "keys", "import", "buyer", to_hex(buyer_key.bytes())});
    ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
    ASSERT_NO_FATAL_FAILURE(expect_committed(net_, 1, {"tx", "send", "dev", buyer_, "10000000atm"}));
    ASSERT_NO_FATAL_FAILURE(expect_committed(net_, 1, {"tx", "send", "buyer", dev_, "1atm"}));

    ASSERT_NO_FATAL_FAILURE(expect_committed(net_, 2, {"model", "transfer", id_, buyer_, "--from", "dev"}));
    for (size_t i : all_) {
      ASSERT_TRUE(wait_available(net_, i, id_, first_epoch_ + 1, buyer_))
          << "node" << i << " does not show the model available after the transfer: "
          << model_get(net_, i, id_).dump() << "\n"
          << net_.read_log(i);
    }
    ASSERT_NO_FATAL_FAILURE(expect_placed_and_held(net_, all_, id_, count_, &second_, &second_epoch_));
    EXPECT_GT(second_epoch_, first_epoch_);
    size_t moved = 0;
    for (uint64_t index = 0; index < count_; ++index) {
      auto before = first_[index];
      auto after = second_[index];
      std::sort(before.begin(), before.end());
      std::sort(after.begin(), after.end());
      if (before != after) ++moved;
    }
    EXPECT_GT(moved, 0u) << "the new epoch placed every fragment on the same nodes";
  }

  // Kills with SIGKILL the highest-numbered node other than node 0 that
  // holds fragments at the current epoch, and sets victim_ to it.
  void kill_a_holder() {
    for (size_t i : {3, 2, 1}) {
      if (!placed_on(second_, validator_address(net_, i)).empty()) {
        victim_ = i;
        break;
      }
    }
    ASSERT_NE(victim_, 0u) << "no node other than node 0 holds fragments";
    net_.kill9(victim_);
  }

  Localnet net_{4};
  const std::vector<size_t> all_ = {0, 1, 2, 3};
  std::string id_;
  std::string content_;
  uint64_t count_ = 0;
  std::string dev_;
  std::string buyer_;
  Placement first_;
  uint64_t first_epoch_ = 0;
  Placement second_;
  uint64_t second_epoch_ = 0;
  size_t victim_ = 0;
};

// Registered and uploaded to node 0 only, the model becomes available
// with each fragment on its two rendezvous nodes. A transfer moves
// fragments to the new epoch's nodes. With one holder killed, a surviving
// holder of each fragment still serves it with a valid audit path.
TEST_F(ModelPlacementTest, PlacesAndMovesFragments) {
  ASSERT_NO_FATAL_FAILURE(register_and_place());
  ASSERT_NO_FATAL_FAILURE(transfer_and_replace());
  ASSERT_NO_FATAL_FAILURE(kill_a_holder());

  const json manifest = model_get(net_, 0, id_)["manifest"];
  ASSERT_TRUE(manifest.is_object());
  const auto root_bytes = from_hex(manifest.value("fragments_root", ""));
  ASSERT_TRUE(root_bytes.has_value()) << manifest.dump();
  ASSERT_EQ(root_bytes->size(), 32u) << manifest.dump();
  Hash32 root{};
  std::copy(root_bytes->begin(), root_bytes->end(), root.begin());

  // Ask a live node that placement assigns each fragment to, so the reply
  // comes from its own store.
  std::vector<Bytes> fragments;
  for (uint64_t index = 0; index < count_; ++index) {
    size_t server = net_.size();
    for (size_t i : all_) {
      const auto& holders = second_[index];
      if (i != victim_ &&
          std::find(holders.begin(), holders.end(), validator_address(net_, i)) != holders.end()) {
        server = i;
        break;
      }
    }
    ASSERT_LT(server, net_.size()) << "fragment " << index << " has no live holder";
    const json reply = net_.rpc(server, "model_fragment", {{"id", id_}, {"index", index}});
    ASSERT_TRUE(reply.contains("result")) << "node" << server << " fragment " << index << ": " << reply.dump();
    const json& result = reply["result"];
    EXPECT_EQ(result.value("count", uint64_t{0}), count_);

    std::string data;
    ASSERT_TRUE(cli::decode_base64(result.value("data", ""), &data)) << "fragment " << index;
    const uint64_t plain_size = std::min<uint64_t>(kFragmentSize, content_.size() - index * kFragmentSize);
    EXPECT_EQ(data.size(), plain_size + kSealOverhead) << "fragment " << index;
    std::vector<Hash32> proof;
    for (const auto& hex : result.value("proof", std::vector<std::string>{})) {
      const auto bytes = from_hex(hex);
      ASSERT_TRUE(bytes.has_value()) << "fragment " << index << " proof entry " << hex;
      ASSERT_EQ(bytes->size(), 32u) << "fragment " << index << " proof entry " << hex;
      Hash32 hash{};
      std::copy(bytes->begin(), bytes->end(), hash.begin());
      proof.push_back(hash);
    }
    const Bytes fragment(data.begin(), data.end());
    EXPECT_TRUE(crypto::merkle_verify_inclusion(crypto::merkle_leaf_hash(fragment), index, count_, proof, root))
        << "node" << server << " fragment " << index << " does not verify against the manifest root";
    fragments.push_back(fragment);
  }
  EXPECT_EQ(crypto::merkle_root(fragments), root);

  // The old owner's envelope went with the transfer.
  const fs::path refused_path = net_.root() / "refused.safetensors";
  const CommandResult refused =
      net_.cli(0, {"--no-passphrase", "model", "fetch", id_, "--out", refused_path.string(), "--from", "dev"});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.err.find("no key"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(refused_path));
}

// With one holder killed, the new owner fetches the exact file through
// node 0, which holds only some fragments and pulls the rest from peers.
// model_fragment on a node without a fragment pulls it from a peer into
// its store. The placement worker keeps such a copy for a grace period, so
// the fetch through node 0 receives every fragment.
TEST_F(ModelPlacementTest, FetchesFileAfterHolderKilled) {
  ASSERT_NO_FATAL_FAILURE(register_and_place());
  ASSERT_NO_FATAL_FAILURE(transfer_and_replace());
  ASSERT_NO_FATAL_FAILURE(kill_a_holder());

  const fs::path fetched_path = net_.root() / "fetched.safetensors";
  const CommandResult fetched =
      net_.cli(0, {"--no-passphrase", "model", "fetch", id_, "--out", fetched_path.string(), "--from", "buyer"});
  ASSERT_EQ(fetched.exit_code, 0) << "node" << victim_ << " killed: " << fetched.out << fetched.err
                                  << "\nnode0 log:\n" << net_.read_log(0);
  const std::string bytes = read_file(fetched_path);
  EXPECT_EQ(bytes.size(), content_.size());
  EXPECT_TRUE(bytes == content_) << "the fetched file differs from the registered one";
}

}  // namespace
}  // namespace automata::localnet
