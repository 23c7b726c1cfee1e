// Composites, wrapped children, transfers, use grants, offers and
// royalties.
#include "automata/modules/code/code.h"
#include "automata/modules/objects/object_invariants.h"
#include "code_fixture.h"

#include <gtest/gtest.h>

namespace automata::execution::testing {
namespace {

const Files kA = {{"a.cc", "a\n"}};
const Files kB = {{"b.cc", "b\n"}};
const Files kD = {{"d.cc", "d\n"}};
const Files kPartFiles[] = {kA, kB, kD};

class CodeObjectsTest : public ::testing::Test {
 protected:
  // Publishes and returns {asset id, head version}.
  std::pair<std::string, std::string> publish(size_t key, const std::string& name, const Files& files,
                                              uint32_t royalty_bps = 0) {
    std::string id = chain_.publish(key, name, files, royalty_bps);
    return {id, chain_.head(id)};
  }

  std::string compose(size_t key, const std::vector<std::pair<std::string, std::string>>& children,
                      uint32_t royalty_bps = 0) {
    Outcome outcome = chain_.run(key, {compose_op("bundle", children, royalty_bps)});
    EXPECT_EQ(outcome.code, ResultCode::kOk) << outcome.log;
    return outcome.created("composite");
  }

  std::string offer(size_t key, const std::string& object, Amount price, std::optional<Address> buyer = std::nullopt,
                    uint64_t expiry = 0) {
    Outcome outcome = chain_.run(key, {offer_op(object, "gold", price, buyer, expiry)});
    EXPECT_EQ(outcome.code, ResultCode::kOk) << outcome.log;
    return outcome.created("offer");
  }

  CodeChain chain_;
};

TEST_F(CodeObjectsTest, ComposeWrapsAndDecomposeReturns) {
  auto [a, va] = publish(0, "a", kA);
  auto [b, vb] = publish(0, "b", kB);
  std::string c = compose(0, {{b, vb}, {a, va}});

  v1::ObjectEnvelope wrapped = chain_.object(a);
  EXPECT_EQ(wrapped.wrapped_by(), c);
  EXPECT_TRUE(wrapped.owner().empty());
  v1::CodeAsset composite = chain_.asset(c);
  EXPECT_EQ(composite.kind(), v1::CodeAsset::KIND_COMPOSITE);
  ASSERT_EQ(composite.children_size(), 2);
  EXPECT_LT(composite.children(0).asset_id(), composite.children(1).asset_id()) << "children are stored sorted";
  EXPECT_EQ(chain_.object(c).owner(), raw(chain_.address(0)));

  Outcome outsider = chain_.run(1, {decompose_op(c)});
  EXPECT_EQ(outsider.code, ResultCode::kNotOwner);

  ASSERT_EQ(chain_.run(0, {transfer_object_op(c, chain_.address(1))}).code, ResultCode::kOk);
  Outcome decompose = chain_.run(1, {decompose_op(c)});
  ASSERT_EQ(decompose.code, ResultCode::kOk) << decompose.log;
  for (const std::string& child : {a, b}) {
    v1::ObjectEnvelope object = chain_.object(child);
    EXPECT_TRUE(object.wrapped_by().empty());
    EXPECT_EQ(object.owner(), raw(chain_.address(1))) << "children go to the composite's owner";
  }
  EXPECT_EQ(chain_.asset(c).children_size(), 0);
}

TEST_F(CodeObjectsTest, WrappedChildRefusesOwnUse) {
  auto [a, va] = publish(0, "a", kA);
  std::string c = compose(0, {{a, va}});

  Outcome transfer = chain_.run(0, {transfer_object_op(a, chain_.address(1))});
  EXPECT_EQ(transfer.code, ResultCode::kObjectWrapped);
  EXPECT_NE(transfer.log.find(to_hex(as_view(c))), std::string::npos) << transfer.log;
  EXPECT_EQ(chain_.run(0, {commit_op(a, "main", kA)}).code, ResultCode::kObjectWrapped);
  EXPECT_EQ(chain_.run(0, {branch_op(a, "x", v1::CodeBranch::ACTION_CREATE, va)}).code, ResultCode::kObjectWrapped);
  EXPECT_EQ(chain_.run(0, {offer_op(a, "gold", 10)}).code, ResultCode::kObjectWrapped);
  EXPECT_EQ(chain_.run(0, {grant_op(a, chain_.address(1), 100)}).code, ResultCode::kObjectWrapped);
  EXPECT_EQ(chain_.run(0, {compose_op("again", {{a, va}})}).code, ResultCode::kObjectWrapped);
}

TEST_F(CodeObjectsTest, ComposeNeedsOwnedChildrenAndPinnedVersions) {
  auto [a, va] = publish(0, "a", kA);
  auto [b, vb] = publish(1, "b", kB);
  EXPECT_EQ(chain_.run(0, {compose_op("mixed", {{a, va}, {b, vb}})}).code, ResultCode::kNotOwner);
  EXPECT_EQ(chain_.run(0, {compose_op("wrong version", {{a, vb}})}).code, ResultCode::kObjectNotFound);
  EXPECT_EQ(chain_.run(0, {compose_op("no version", {{a, ""}})}).code, ResultCode::kObjectNotFound);
  Outcome duplicate = chain_.run(0, {compose_op("twice", {{a, va}, {a, va}})});
  EXPECT_EQ(duplicate.code, ResultCode::kInvalidOp);
  EXPECT_FALSE(duplicate.included);
}

TEST_F(CodeObjectsTest, NestedCompositesKeepChildrenWrapped) {
  auto [a, va] = publish(0, "a", kA);
  std::string inner = compose(0, {{a, va}});
  std::string outer = compose(0, {{inner, ""}});
  EXPECT_EQ(chain_.object(inner).wrapped_by(), outer);
  // The inner composite cannot be decomposed while it is wrapped.
  EXPECT_EQ(chain_.run(0, {decompose_op(inner)}).code, ResultCode::kObjectWrapped);
  ASSERT_EQ(chain_.run(0, {decompose_op(outer)}).code, ResultCode::kOk);
  ASSERT_EQ(chain_.run(0, {decompose_op(inner)}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.object(a).owner(), raw(chain_.address(0)));
}

// A StateReader over a map, to build states that no op sequence produces.
class MemoryState final : public StateReader {
 public:
  Status get(ByteView key, std::optional<Bytes>* value) override {
    auto it = values_.find(Bytes(key.begin(), key.end()));
    *value = it == values_.end() ? std::nullopt : std::optional<Bytes>(it->second);
    return Status::ok();
  }
  std::map<Bytes, Bytes> values_;
};

v1::ObjectEnvelope composite_envelope(const std::string& id, const std::vector<std::string>& children,
                                      const Address& owner) {
  v1::CodeAsset body;
  body.set_kind(v1::CodeAsset::KIND_COMPOSITE);
  body.set_name("crafted");
  for (const std::string& child : children) body.add_children()->set_asset_id(child);
  v1::ObjectEnvelope object;
  object.set_id(id);
  object.set_type("code.composite");
  object.set_owner(raw(owner));
  object.set_body(body.SerializeAsString());
  return object;
}

TEST(CodeCycles, ComposeRejectsCycleAtDepthTwo) {
  // P lists Q and Q lists P: a corrupt state no op sequence can reach.
  // Composing P must stop at the cycle instead of recursing forever.
  TestKey key = make_key();
  std::string p(32, 'p');
  std::string q(32, 'q');
  MemoryState memory;
  auto put = [&](const v1::ObjectEnvelope& object) {
    memory.values_[keys::object(as_view(object.id()))] = to_bytes(object.SerializeAsString());
  };
  put(composite_envelope(p, {q}, key.address));
  put(composite_envelope(q, {p}, key.address));

  Overlay overlay(&memory);
  GasMeter gas(10'000'000);
  objects::ObjectContext context;
  context.state = &overlay;
  context.gas = &gas;
  context.signer = key.address;
  context.height = 5;
  v1::CodeCompose op = compose_op("loop", {{p, ""}}).code_compose();
  objects::OpResult result;
  Status status = code::apply_compose(op, context, &result);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(result.code, ResultCode::kCompositionCycle);
  EXPECT_NE(result.log.find("depth 2"), std::string::npos) << result.log;
}

TEST(CodeCycles, InvariantCatchesMovedWrappedChild) {
  TestKey key = make_key();
  std::string parent(32, 'c');
  std::string child(32, 'a');
  MemoryState memory;
  memory.values_[keys::object(as_view(parent))] =
      to_bytes(composite_envelope(parent, {child}, key.address).SerializeAsString());
  v1::ObjectEnvelope wrapped;
  wrapped.set_id(child);
  wrapped.set_type("code.repository");
  wrapped.set_wrapped_by(parent);
  memory.values_[keys::object(as_view(child))] = to_bytes(wrapped.SerializeAsString());

  Overlay unchanged(&memory);
  std::string problem;
  ASSERT_TRUE(objects::check_object_invariants(unchanged, &problem).is_ok());
  EXPECT_EQ(problem, "");

  Overlay moved(&memory);
  v1::ObjectEnvelope stolen = wrapped;
  stolen.set_owner(raw(key.address));
  moved.put(keys::object(as_view(child)), to_bytes(stolen.SerializeAsString()));
  ASSERT_TRUE(objects::check_object_invariants(moved, &problem).is_ok());
  EXPECT_NE(problem.find("changed its owner"), std::string::npos) << problem;

  Overlay self_wrapped(&memory);
  v1::ObjectEnvelope loop = composite_envelope(parent, {child, parent}, key.address);
  loop.clear_owner();
  loop.set_wrapped_by(parent);
  self_wrapped.put(keys::object(as_view(parent)), to_bytes(loop.SerializeAsString()));
  ASSERT_TRUE(objects::check_object_invariants(self_wrapped, &problem).is_ok());
  EXPECT_NE(problem.find("in itself"), std::string::npos) << problem;
}

TEST_F(CodeObjectsTest, OfferOnStrippedCompositeFails) {
  auto [a, va] = publish(0, "a", kA);
  auto [b, vb] = publish(0, "b", kB);
  std::string c = compose(0, {{a, va}, {b, vb}});
  std::string offer_id = offer(0, c, 1'000);

  ASSERT_EQ(chain_.run(0, {decompose_op(c)}).code, ResultCode::kOk);
  compose(0, {{a, va}});  // b stripped out into a new composite
  Outcome accept = chain_.run(1, {accept_op(offer_id)});
  EXPECT_EQ(accept.code, ResultCode::kOfferMismatch);
  EXPECT_EQ(chain_.balance(1, "gold"), TestChain::kInitialGold) << "a failed accept moves no coins";
  EXPECT_EQ(chain_.object(c).owner(), raw(chain_.address(0)));
}

TEST_F(CodeObjectsTest, RepositoryOfferFailsAfterCommit) {
  auto [a, va] = publish(0, "a", kA);
  std::string offer_id = offer(0, a, 1'000);
  ASSERT_EQ(chain_.run(0, {upload_files_op(kB), commit_op(a, "main", kB)}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.run(1, {accept_op(offer_id)}).code, ResultCode::kOfferMismatch);
}

TEST_F(CodeObjectsTest, CompositeRoyaltiesAddUpToPrice) {
  const std::vector<uint32_t> bps = {333, 777, 1111};
  std::vector<std::pair<std::string, std::string>> parts;
  for (size_t author = 1; author <= 3; ++author) {
    const Files& files = kPartFiles[author - 1];
    auto [id, version] = publish(author, "part" + std::to_string(author), files, bps[author - 1]);
    ASSERT_EQ(chain_.run(author, {transfer_object_op(id, chain_.address(0))}).code, ResultCode::kOk);
    parts.emplace_back(id, version);
  }
  std::string c = compose(0, parts);
  const Amount price = 4'999;  // not a multiple of 10000 / bps
  std::string offer_id = offer(0, c, price);

  std::vector<Amount> before;
  for (size_t i = 0; i <= 4; ++i) before.push_back(chain_.balance(i, "gold"));
  Outcome accept = chain_.run(4, {accept_op(offer_id)});
  ASSERT_EQ(accept.code, ResultCode::kOk) << accept.log;

  Amount royalties = 0;
  for (size_t author = 1; author <= 3; ++author) {
    Amount expected = price * bps[author - 1] / 10'000;
    EXPECT_EQ(chain_.balance(author, "gold") - before[author], expected) << "author " << author;
    royalties += expected;
  }
  Amount seller_gain = chain_.balance(0, "gold") - before[0];
  EXPECT_EQ(seller_gain, price - royalties);
  EXPECT_EQ(seller_gain + royalties, price);
  EXPECT_EQ(before[4] - chain_.balance(4, "gold"), price);

  EXPECT_EQ(chain_.object(c).owner(), raw(chain_.address(4)));
  EXPECT_FALSE(chain_.raw_state(keys::offer(as_view(offer_id))).has_value()) << "an accepted offer is removed";
}

TEST_F(CodeObjectsTest, RoyaltiesAbovePriceFail) {
  std::vector<std::pair<std::string, std::string>> parts;
  for (size_t author = 1; author <= 3; ++author) {
    const Files& files = kPartFiles[author - 1];
    auto [id, version] = publish(author, "part", files, 4'000);
    ASSERT_EQ(chain_.run(author, {transfer_object_op(id, chain_.address(0))}).code, ResultCode::kOk);
    parts.emplace_back(id, version);
  }
  std::string c = compose(0, parts);
  std::string offer_id = offer(0, c, 100);
  Outcome accept = chain_.run(4, {accept_op(offer_id)});
  EXPECT_EQ(accept.code, ResultCode::kRoyaltyExceedsPrice);
  EXPECT_EQ(chain_.balance(4, "gold"), TestChain::kInitialGold);
}

TEST_F(CodeObjectsTest, AuthorEarnsOnResaleOnly) {
  auto [a, va] = publish(1, "a", kA, 1'000);
  std::string first = offer(1, a, 1'000);
  Amount author_before = chain_.balance(1, "gold");
  ASSERT_EQ(chain_.run(2, {accept_op(first)}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.balance(1, "gold") - author_before, 1'000) << "the author selling pays no royalty to itself";

  std::string second = offer(2, a, 2'000);
  Amount seller_before = chain_.balance(2, "gold");
  author_before = chain_.balance(1, "gold");
  ASSERT_EQ(chain_.run(3, {accept_op(second)}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.balance(1, "gold") - author_before, 200);
  EXPECT_EQ(chain_.balance(2, "gold") - seller_before, 1'800);
}

TEST_F(CodeObjectsTest, ReservedBuyerOnly) {
  auto [a, va] = publish(0, "a", kA);
  std::string offer_id = offer(0, a, 10, chain_.address(2));
  Outcome other = chain_.run(3, {accept_op(offer_id)});
  EXPECT_EQ(other.code, ResultCode::kNotReservedBuyer);
  ASSERT_EQ(chain_.run(2, {accept_op(offer_id)}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.object(a).owner(), raw(chain_.address(2)));
}

TEST_F(CodeObjectsTest, ExpiredOfferFails) {
  auto [a, va] = publish(0, "a", kA);
  uint64_t expiry = chain_.height() + 2;
  std::string offer_id = offer(0, a, 10, std::nullopt, expiry);
  chain_.skip_block();
  chain_.skip_block();
  Outcome accept = chain_.run(1, {accept_op(offer_id)});
  EXPECT_EQ(accept.code, ResultCode::kOfferExpired);
  EXPECT_NE(accept.log.find(std::to_string(expiry)), std::string::npos) << accept.log;
}

TEST_F(CodeObjectsTest, CancelRemovesOffer) {
  auto [a, va] = publish(0, "a", kA);
  std::string offer_id = offer(0, a, 10);
  EXPECT_EQ(chain_.run(1, {cancel_op(offer_id)}).code, ResultCode::kNotOwner);
  ASSERT_EQ(chain_.run(0, {cancel_op(offer_id)}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.run(1, {accept_op(offer_id)}).code, ResultCode::kObjectNotFound);
}

TEST_F(CodeObjectsTest, GrantsWithExpiry) {
  auto [a, va] = publish(0, "a", kA);
  uint64_t expiry = chain_.height() + 10;
  ASSERT_EQ(chain_.run(0, {grant_op(a, chain_.address(2), expiry)}).code, ResultCode::kOk);
  ASSERT_EQ(chain_.run(0, {grant_op(a, chain_.address(1), expiry + 5)}).code, ResultCode::kOk);
  v1::ObjectEnvelope object = chain_.object(a);
  ASSERT_EQ(object.grants_size(), 2);
  EXPECT_LT(object.grants(0).grantee(), object.grants(1).grantee()) << "grants are sorted by grantee";

  EXPECT_EQ(chain_.run(1, {grant_op(a, chain_.address(3), expiry)}).code, ResultCode::kNotOwner);
  Outcome past = chain_.run(0, {grant_op(a, chain_.address(3), 1)});
  EXPECT_EQ(past.code, ResultCode::kExpiryInPast);

  ASSERT_EQ(chain_.run(0, {grant_op(a, chain_.address(2), 0)}).code, ResultCode::kOk);
  object = chain_.object(a);
  ASSERT_EQ(object.grants_size(), 1);
  EXPECT_EQ(object.grants(0).grantee(), raw(chain_.address(1)));
  EXPECT_EQ(object.grants(0).expiry_height(), expiry + 5);

  // A plain transfer keeps grants; a sale clears them.
  ASSERT_EQ(chain_.run(0, {transfer_object_op(a, chain_.address(3))}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.object(a).grants_size(), 1);
  std::string offer_id = offer(3, a, 5);
  ASSERT_EQ(chain_.run(4, {accept_op(offer_id)}).code, ResultCode::kOk);
  EXPECT_EQ(chain_.object(a).grants_size(), 0);
}

}  // namespace
}  // namespace automata::execution::testing
