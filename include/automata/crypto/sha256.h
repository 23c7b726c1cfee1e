// SHA-256 through OpenSSL EVP. Each thread reuses one digest context, so a
// hash allocates no EVP_MD_CTX after the first call on a thread.
// NOTE: OpenSSL 3.0.x (3.0.22 measured) frees and re-creates the provider's
// digest state in every EVP_DigestInit_ex, so each hash still costs one small
// malloc and free inside OpenSSL.
// OpenSSL failing to hash (no SHA-256 provider, out of memory) aborts the
// process, because no caller could recover.
#pragma once

#include "automata/types/bytes.h"

#include <initializer_list>

namespace automata::crypto {

// SHA-256 of one byte string.
Hash32 sha256(ByteView data);

// SHA-256 of the concatenation of several byte strings, without copying them
// into one buffer first.
Hash32 sha256_concat(std::initializer_list<ByteView> parts);

// Incremental hasher for large inputs. Not thread-safe; one per thread.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(ByteView data);
  // Returns the digest and resets the hasher for reuse.
  Hash32 finish();

 private:
  struct Context;
  Context* ctx_;
};

}  // namespace automata::crypto
