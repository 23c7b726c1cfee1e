// Placement of model fragments on storage nodes.
#include "automata/crypto/keys.h"
#include "automata/crypto/sha256.h"
#include "automata/modules/model/model.h"
#include "automata/modules/model/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace automata::model {
namespace {

std::vector<crypto::PublicKey> make_nodes(size_t count) {
  std::vector<crypto::PublicKey> nodes;
  for (size_t i = 0; i < count; ++i) nodes.push_back(crypto::PrivateKey::generate().public_key());
  return nodes;
}

const Hash32 kModelId = crypto::sha256(as_view(std::string_view("placement test model")));

TEST(Placement, ScoreMatchesDefinition) {
  crypto::PublicKey node = make_nodes(1)[0];
  Bytes message = to_bytes("automata/placement");
  message.insert(message.end(), kModelId.begin(), kModelId.end());
  for (uint8_t b : {0, 0, 0, 0, 0, 0, 0, 7}) message.push_back(b);  // epoch 7
  for (uint8_t b : {0, 0, 1, 2}) message.push_back(b);              // index 258
  message.insert(message.end(), node.begin(), node.end());
  EXPECT_EQ(placement_score(kModelId, 7, 258, node), crypto::sha256(message));
}

TEST(Placement, PicksHighestScoresInOrder) {
  std::vector<crypto::PublicKey> nodes = make_nodes(5);
  std::vector<size_t> placed = place_fragment(kModelId, 3, 11, nodes, 2);
  ASSERT_EQ(placed.size(), 2u);
  std::vector<std::pair<Hash32, size_t>> scores;
  for (size_t i = 0; i < nodes.size(); ++i) scores.emplace_back(placement_score(kModelId, 3, 11, nodes[i]), i);
  std::sort(scores.begin(), scores.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  EXPECT_EQ(placed[0], scores[0].second);
  EXPECT_EQ(placed[1], scores[1].second);
}

TEST(Placement, DeterministicAndEpochDependent) {
  std::vector<crypto::PublicKey> nodes = make_nodes(6);
  bool any_epoch_difference = false;
  for (uint32_t index = 0; index < 64; ++index) {
    EXPECT_EQ(place_fragment(kModelId, 0, index, nodes, 2), place_fragment(kModelId, 0, index, nodes, 2));
    if (place_fragment(kModelId, 0, index, nodes, 2) != place_fragment(kModelId, 1, index, nodes, 2)) {
      any_epoch_difference = true;
    }
  }
  EXPECT_TRUE(any_epoch_difference);
}

TEST(Placement, SpreadsOverNodes) {
  std::vector<crypto::PublicKey> nodes = make_nodes(4);
  std::map<size_t, int> load;
  const uint32_t fragments = 400;
  for (uint32_t index = 0; index < fragments; ++index) {
    for (size_t node : place_fragment(kModelId, 0, index, nodes, 2)) ++load[node];
  }
  ASSERT_EQ(load.size(), nodes.size());
  // Each node expects 200 of the 800 placements; 100 is far outside the
  // binomial spread (standard deviation about 12).
  for (const auto& [node, count] : load) {
    EXPECT_GT(count, 100) << "node " << node;
    EXPECT_LT(count, 300) << "node " << node;
  }
}

TEST(Placement, ReplicationCappedByNodes) {
  EXPECT_EQ(effective_replication(0), 0u);
  EXPECT_EQ(effective_replication(1), 1u);
  EXPECT_EQ(effective_replication(5), kReplicationFactor);
  std::vector<crypto::PublicKey> nodes = make_nodes(1);
  EXPECT_EQ(place_fragment(kModelId, 0, 0, nodes, 2), std::vector<size_t>{0});
}

TEST(Placement, IndicesPlacedOnNodeMatchPlaceFragment) {
  std::vector<crypto::PublicKey> nodes = make_nodes(3);
  std::vector<uint32_t> all;
  for (size_t n = 0; n < nodes.size(); ++n) {
    std::vector<uint32_t> mine = indices_placed_on(kModelId, 2, 50, nodes, nodes[n]);
    for (uint32_t index : mine) {
      std::vector<size_t> placed = place_fragment(kModelId, 2, index, nodes, 2);
      EXPECT_NE(std::find(placed.begin(), placed.end(), n), placed.end()) << "index " << index;
    }
    all.insert(all.end(), mine.begin(), mine.end());
  }
  EXPECT_EQ(all.size(), 100u);  // 50 fragments, 2 nodes each
  EXPECT_TRUE(indices_placed_on(kModelId, 2, 50, nodes, make_nodes(1)[0]).empty());
}

TEST(Placement, HoldsFragmentReadsBits) {
  std::string held = {static_cast<char>(0b00000101), static_cast<char>(0b10000000)};
  EXPECT_TRUE(holds_fragment(held, 0));
  EXPECT_FALSE(holds_fragment(held, 1));
  EXPECT_TRUE(holds_fragment(held, 2));
  EXPECT_TRUE(holds_fragment(held, 15));
  EXPECT_FALSE(holds_fragment(held, 16));
}

}  // namespace
}  // namespace automata::model
