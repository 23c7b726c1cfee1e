#include "automata/crypto/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace automata::crypto {
namespace {

// The SHA-256 implementation, fetched from the default provider once per
// process. Fetching per call would take a lock and a refcount every time.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// A failing digest call means OpenSSL itself is broken (no provider, out of
// memory). No caller can recover from that, so the process stops.
[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "automata: fatal: OpenSSL SHA-256 %s failed\n", what);
  std::abort();
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

MdCtxPtr new_ctx() {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) die("context allocation");
  return ctx;
}

void init_digest(EVP_MD_CTX* ctx) {
  const EVP_MD* md = sha256_md();
  if (md == nullptr) die("fetch");
  if (EVP_DigestInit_ex(ctx, md, nullptr) != 1) die("init");
}

void update_digest(EVP_MD_CTX* ctx, ByteView data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(ctx, data.data(), data.size()) != 1) die("update");
}

Hash32 finish_digest(EVP_MD_CTX* ctx) {
  Hash32 out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) die("final");
  return out;
}

// Returns the calling thread's context for one-shot hashes, created on the
// thread's first hash and reset by EVP_DigestInit_ex for each later one.
EVP_MD_CTX* thread_ctx() {
  thread_local MdCtxPtr ctx = new_ctx();
  return ctx.get();
}

}  // namespace

Hash32 sha256(ByteView data) {
  EVP_MD_CTX* ctx = thread_ctx();
  init_digest(ctx);
  update_digest(ctx, data);
  return finish_digest(ctx);
}

Hash32 sha256_concat(std::initializer_list<ByteView> parts) {
  EVP_MD_CTX* ctx = thread_ctx();
  init_digest(ctx);
  for (ByteView part : parts) update_digest(ctx, part);
  return finish_digest(ctx);
}

struct Sha256::Context {
  MdCtxPtr ctx = new_ctx();
};

Sha256::Sha256() : ctx_(new Context) { init_digest(ctx_->ctx.get()); }

Sha256::~Sha256() { delete ctx_; }

Sha256& Sha256::update(ByteView data) {
  update_digest(ctx_->ctx.get(), data);
  return *this;
}

Hash32 Sha256::finish() {
  Hash32 digest = finish_digest(ctx_->ctx.get());
  init_digest(ctx_->ctx.get());
  return digest;
}

}  // namespace automata::crypto
