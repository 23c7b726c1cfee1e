// End-to-end: model NFT ownership on a real automatad dev node, driven by
// the real automata CLI: transfer, lease, sale by offer with key delivery,
// royalties up a lineage, and the transferable and burnable flags.
#include "e2e/node_process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace automata::e2e {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The id printed on a "<label> <64 hex>" line of the CLI output.
std::string printed_id(const std::string& output, const std::string& label) {
  std::smatch m;
  std::regex pattern("(^|\n)" + label + " ([0-9a-f]{64})");
  return std::regex_search(output, m, pattern) ? m[2].str() : "";
}

std::string join(const std::vector<std::string>& args) {
  std::string text;
  for (const auto& arg : args) text += arg + " ";
  return text;
}

class ModelOwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string log;
    ASSERT_TRUE(node_.start(&log)) << log;
    work_ = node_.root() / "work";
    fs::create_directories(work_);
  }

  // Runs the CLI and asserts exit code 0.
  CommandResult ok(const std::vector<std::string>& args) {
    CommandResult result = node_.cli(args);
    EXPECT_EQ(result.exit_code, 0) << "automata " << join(args) << "\n" << result.out << result.err;
    return result;
  }

  // Creates a key with the empty passphrase, funds it from dev, and has it
  // send a tx so that its public key is on chain. Returns its address.
  std::string funded_key(const std::string& name) {
    ok({"keys", "add", name, "--no-passphrase"});
    auto shown = ok({"--output", "json", "keys", "show", name});
    std::string address = json::parse(shown.out, nullptr, false).value("address", std::string());
    EXPECT_FALSE(address.empty()) << shown.out;
    ok({"tx", "send", "dev", address, "100000000000atm", "--wait"});
    ok({"tx", "send", name, address, "1atm", "--wait"});
    return address;
  }

  std::string address_of_key(const std::string& name) {
    auto shown = ok({"--output", "json", "keys", "show", name});
    return json::parse(shown.out, nullptr, false).value("address", std::string());
  }

  // The atm balance of address as a decimal string.
  std::string balance(const std::string& address) {
    json reply = node_.rpc("account_get", {{"address", address}});
    for (const auto& coin : reply["result"].value("balances", json::array())) {
      if (coin.value("denom", "") == "atm") return coin.value("amount", "0");
    }
    return "0";
  }

  json model_get(const std::string& id) {
    json reply = node_.rpc("model_get", {{"id", id}});
    EXPECT_TRUE(reply.contains("result")) << reply.dump();
    return reply.value("result", json::object());
  }

  uint64_t height() {
    json reply = node_.rpc("node_status");
    return reply["result"].value("height", uint64_t{0});
  }

  // Waits (bounded) until the chain reaches target; the dev chain makes
  // blocks as txs arrive, so this sends 1atm self-transfers from dev.
  void advance_to(uint64_t target) {
    for (int i = 0; i < 200 && height() < target; ++i) {
      ok({"tx", "send", "dev", address_of_key("dev"), "1atm", "--wait"});
    }
    ASSERT_GE(height(), target);
  }

  // Writes a file of size bytes that no other test file shares.
  fs::path model_file(const std::string& name, size_t size) {
    fs::path path = work_ / name;
    std::string data(size, '\0');
    uint32_t state = static_cast<uint32_t>(std::hash<std::string>{}(name));
    for (auto& c : data) {
      state = state * 1664525u + 1013904223u;
      c = static_cast<char>(state >> 24);
    }
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  // Registers and uploads file from key and returns the model id.
  std::string register_model(const fs::path& file, const std::string& from, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"model", "register", file.string(), "--from", from, "--fragment-size", "65536",
                                     "--wait"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto result = ok(args);
    std::string id = printed_id(result.out, "model");
    EXPECT_EQ(id.size(), 64u) << result.out << result.err;
    return id;
  }

  // Fetches the model as key into a new file and returns the CLI result.
  CommandResult fetch(const std::string& id, const std::string& key, const fs::path& out) {
    return node_.cli({"model", "fetch", id, "--out", out.string(), "--from", key});
  }

  void expect_fetches_file(const std::string& id, const std::string& key, const fs::path& original) {
    fs::path out = work_ / (key + "-" + id.substr(0, 8) + ".bin");
    fs::remove(out);
    CommandResult result = fetch(id, key, out);
    ASSERT_EQ(result.exit_code, 0) << key << " fetches " << id << "\n" << result.out << result.err;
    EXPECT_TRUE(read_all(out) == read_all(original)) << key << "'s copy of " << id << " differs from the file";
  }

  void expect_no_key(const std::string& id, const std::string& key) {
    CommandResult result = fetch(id, key, work_ / "refused.bin");
    EXPECT_NE(result.exit_code, 0) << key << " fetched " << id;
    EXPECT_NE(result.err.find("no key for this model"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(work_ / "refused.bin"));
  }

  DevNode node_;
  fs::path work_;
};

TEST_F(ModelOwnershipTest, TransferMovesKeyToNewOwner) {
  std::string alice = funded_key("alice");
  fs::path file = model_file("transfer.bin", 150'000);
  std::string id = register_model(file, "dev", {"--burnable"});
  expect_fetches_file(id, "dev", file);

  ok({"model", "transfer", id, "alice", "--from", "dev", "--wait"});
  EXPECT_EQ(model_get(id).value("owner", ""), alice);
  expect_fetches_file(id, "alice", file);
  expect_no_key(id, "dev");

  // Only the owner burns; after the burn the model is gone.
  CommandResult not_owner = node_.cli({"model", "burn", id, "--from", "dev", "--wait"});
  EXPECT_NE(not_owner.exit_code, 0) << not_owner.out;
  ok({"model", "burn", id, "--from", "alice", "--wait"});
  json gone = node_.rpc("model_get", {{"id", id}});
  EXPECT_TRUE(gone.contains("error")) << gone.dump();
}

TEST_F(ModelOwnershipTest, NonTransferableAndUnburnableAreRejected) {
  funded_key("alice");
  fs::path file = model_file("fixed.bin", 70'000);
  std::string id = register_model(file, "dev", {"--transferable=false"});
  EXPECT_EQ(model_get(id)["flags"].value("transferable", true), false);

  CommandResult transfer = node_.cli({"model", "transfer", id, "alice", "--from", "dev", "--wait"});
  EXPECT_NE(transfer.exit_code, 0) << transfer.out;
  EXPECT_NE((transfer.out + transfer.err).find("flags.transferable false"), std::string::npos)
      << transfer.out << transfer.err;
  CommandResult burn = node_.cli({"model", "burn", id, "--from", "dev", "--wait"});
  EXPECT_NE(burn.exit_code, 0) << burn.out;
  EXPECT_NE((burn.out + burn.err).find("flags.burnable false"), std::string::npos) << burn.out << burn.err;
  EXPECT_EQ(model_get(id).value("owner", ""), address_of_key("dev"));
  expect_fetches_file(id, "dev", file);
}

TEST_F(ModelOwnershipTest, LeaseSurvivesSaleUntilExpiry) {
  std::string bob = funded_key("bob");
  funded_key("carol");
  std::string dev = address_of_key("dev");
  fs::path file = model_file("leased.bin", 100'000);
  std::string id = register_model(file, "dev", {});

  uint64_t expiry = height() + 12;
  ok({"model", "lease", id, "carol", "--until", std::to_string(expiry), "--from", "dev", "--wait"});
  expect_fetches_file(id, "carol", file);

  // Sale by offer: bob has no key until dev delivers it, and dev keeps its
  // own envelope until then.
  auto offered = ok({"model", "offer", id, "--price", "5000atm", "--buyer", "bob", "--from", "dev", "--wait"});
  std::string offer = printed_id(offered.out, "created offer");
  ASSERT_EQ(offer.size(), 64u) << offered.out;
  ok({"model", "accept", offer, "--from", "bob", "--wait"});
  json sold = model_get(id);
  EXPECT_EQ(sold.value("owner", ""), bob);
  EXPECT_EQ(sold["key_pending_from"], dev) << sold.dump();
  expect_no_key(id, "bob");
  expect_fetches_file(id, "dev", file);
  expect_fetches_file(id, "carol", file);

  CommandResult early = node_.cli({"model", "deliver", id, "--from", "carol"});
  EXPECT_NE(early.exit_code, 0);
  EXPECT_NE(early.err.find("pending from the seller " + dev), std::string::npos) << early.err;
  ok({"model", "deliver", id, "--from", "dev", "--wait"});
  EXPECT_TRUE(model_get(id)["key_pending_from"].is_null());
  expect_fetches_file(id, "bob", file);
  expect_fetches_file(id, "carol", file);
  expect_no_key(id, "dev");
  CommandResult again = node_.cli({"model", "deliver", id, "--from", "dev"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("no key delivery is pending"), std::string::npos) << again.err;

  // The lease covers its expiry height and ends after it. The dev chain
  // makes one block per tx, so advance_to stops at exactly expiry.
  advance_to(expiry);
  ASSERT_EQ(height(), expiry);
  expect_fetches_file(id, "carol", file);
  advance_to(expiry + 1);
  expect_no_key(id, "carol");
}

TEST_F(ModelOwnershipTest, SalePaysRoyaltiesUpLineage) {
  std::string ann = funded_key("ann");
  std::string ben = funded_key("ben");
  std::string cat = funded_key("cat");
  std::string buyer = funded_key("buyer");
  std::string a = register_model(model_file("a.bin", 70'000), "ann", {"--royalty-bps", "500"});
  std::string b = register_model(model_file("b.bin", 70'000), "ben", {"--royalty-bps", "250", "--base", a});
  std::string c = register_model(model_file("c.bin", 70'000), "cat", {"--royalty-bps", "125", "--base", b});

  // cat hands C to sam, who sells it for 99999atm. Each share is
  // floor(99999 * bps / 10000): cat (C's creator, 125 bps) 1249, ben (B,
  // 250 bps) 2499, ann (A, 500 bps) 4999, and sam keeps the rest.
  std::string sam = funded_key("sam");
  ok({"model", "transfer", c, "sam", "--from", "cat", "--wait"});
  const uint64_t price = 99'999;
  const uint64_t to_cat = 1'249;
  const uint64_t to_ben = 2'499;
  const uint64_t to_ann = 4'999;
  const uint64_t to_sam = 91'252;

  auto offered = ok({"model", "offer", c, "--price", std::to_string(price) + "atm", "--from", "sam", "--wait"});
  std::string offer = printed_id(offered.out, "created offer");
  ASSERT_EQ(offer.size(), 64u) << offered.out;
  uint64_t ann_before = std::stoull(balance(ann));
  uint64_t ben_before = std::stoull(balance(ben));
  uint64_t cat_before = std::stoull(balance(cat));
  uint64_t sam_before = std::stoull(balance(sam));
  ok({"model", "accept", offer, "--from", "buyer", "--wait"});

  EXPECT_EQ(std::stoull(balance(ann)), ann_before + to_ann);
  EXPECT_EQ(std::stoull(balance(ben)), ben_before + to_ben);
  EXPECT_EQ(std::stoull(balance(cat)), cat_before + to_cat);
  EXPECT_EQ(std::stoull(balance(sam)), sam_before + to_sam);
  EXPECT_EQ(model_get(c).value("owner", ""), buyer);
}

}  // namespace
}  // namespace automata::e2e
