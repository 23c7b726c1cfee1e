// The cost of one BIP-340 signature check on this machine, the floor under
// every transfer's CPU time in the apply engine and the localnet.
//
//   build/release/bench/sig_bench [ITERATIONS]   (default 20000)
//
// Times, on one thread:
//   1. secp256k1_schnorrsig_verify with a parsed key (libsecp256k1 alone);
//   2. secp256k1_xonly_pubkey_parse of a 32-byte key;
//   3. crypto::verify, the node's check: parse, then verify;
//   4. crypto::sha256 of a 32-byte message, for scale.
// Then prints the transfers per second that two cores could check if they
// did nothing else, one check per transfer.
#include "automata/crypto/keys.h"
#include "automata/crypto/sha256.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

double micros_per_op(Clock::time_point start, Clock::time_point end, long iterations) {
  return std::chrono::duration<double, std::micro>(end - start).count() / static_cast<double>(iterations);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace automata;
  long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 20000;
  if (iterations <= 0) {
    std::fprintf(stderr, "error: ITERATIONS must be a positive number, got '%s'\n", argv[1]);
    return 2;
  }

  crypto::PrivateKey key = crypto::PrivateKey::generate();
  crypto::PublicKey public_key = key.public_key();
  Hash32 message = crypto::sha256(as_view(std::string("sig_bench message")));
  crypto::Signature signature = key.sign(message);

  secp256k1_context* context = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  secp256k1_xonly_pubkey parsed;
  if (secp256k1_xonly_pubkey_parse(context, &parsed, public_key.data()) != 1) {
    std::fprintf(stderr, "error: libsecp256k1 cannot parse the generated public key\n");
    return 1;
  }

  long valid = 0;
  auto start = Clock::now();
  for (long i = 0; i < iterations; ++i) {
    valid += secp256k1_schnorrsig_verify(context, signature.data(), message.data(), message.size(), &parsed);
  }
  auto after_verify = Clock::now();
  for (long i = 0; i < iterations; ++i) {
    secp256k1_xonly_pubkey key_out;
    valid += secp256k1_xonly_pubkey_parse(context, &key_out, public_key.data());
  }
  auto after_parse = Clock::now();
  for (long i = 0; i < iterations; ++i) valid += crypto::verify(public_key, message, signature) ? 1 : 0;
  auto after_node_check = Clock::now();
  Hash32 digest = message;
  for (long i = 0; i < iterations; ++i) digest = crypto::sha256(digest);
  auto after_hash = Clock::now();
  secp256k1_context_destroy(context);

  if (valid != 3 * iterations) {
    std::fprintf(stderr, "error: %ld of %ld checks failed\n", 3 * iterations - valid, 3 * iterations);
    return 1;
  }
  double verify_us = micros_per_op(start, after_verify, iterations);
  double parse_us = micros_per_op(after_verify, after_parse, iterations);
  double node_us = micros_per_op(after_parse, after_node_check, iterations);
  double hash_us = micros_per_op(after_node_check, after_hash, iterations);
  std::printf("iterations:                          %ld\n", iterations);
  std::printf("schnorrsig_verify (parsed key):      %.2f us\n", verify_us);
  std::printf("xonly_pubkey_parse:                  %.2f us\n", parse_us);
  std::printf("crypto::verify (parse + verify):     %.2f us\n", node_us);
  std::printf("sha256 of 32 bytes:                  %.3f us (last byte %02x)\n", hash_us, digest[31]);
  std::printf("two cores doing only crypto::verify: %.0f checks/s\n", 2e6 / node_us);
  return 0;
}
