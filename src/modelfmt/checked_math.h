// Overflow-checked unsigned arithmetic for sizes and parameter counts.
#pragma once

#include <cstdint>

namespace automata::modelfmt {

// Sets *out = a * b and returns true, or returns false on overflow.
inline bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

// Sets *out = a + b and returns true, or returns false on overflow.
inline bool checked_add(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

}  // namespace automata::modelfmt
